/**
 * The "floor" of the always-on overhead benches: the sensor's object loaded by the addon alone,
 * only facts_sys_enter attached and facts_config left all-zero, so the program returns at once —
 * what any sys_enter hook costs on this kernel (tracepoint slow path + BPF dispatch). The
 * consumer polls at the sensor's default interval, as KernelEventSource does.
 */
import { bpfObjectPath, loadAddon, type NativeSensor } from '../sensor/src/kernel/addon';
import { DEFAULT_POLL_MS } from '../sensor/src/kernel/source';

export function startSysEnterFloor(pollMs = DEFAULT_POLL_MS): NativeSensor {
  const sensor: NativeSensor = new (loadAddon().Sensor)(bpfObjectPath(), { ringBufferBytes: 1 << 22, pollMs });
  sensor.load();
  sensor.attach();
  for (const p of sensor.programs()) if (p.name !== 'facts_sys_enter') sensor.detachProgram(p.name);
  return sensor;
}
