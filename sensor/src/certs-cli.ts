import { parseArgs } from 'node:util';
import { ensureCerts } from './tls/certs';

const USAGE = `Usage: npm run certs -- --out DIR [--sensor-host NAME ...] [--force]

Creates (or keeps, when still valid) a local CA and the certificates of the cockpit (client auth)
and the sensor (server auth; names: localhost, this host's name, every --sensor-host).
--force rotates everything, the CA included. See docs/OPERATIONS.md, "Certificates".`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        out: { type: 'string' },
        'sensor-host': { type: 'string', multiple: true },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (!args.out) {
    console.error(`--out DIR is required\n\n${USAGE}`);
    return 2;
  }
  const result = await ensureCerts({ outDir: args.out, sensorHosts: args['sensor-host'] ?? [], force: args.force });
  for (const part of result.made) console.log(`made ${part}`);
  for (const part of result.kept) console.log(`kept ${part} (valid)`);
  console.log(`sensor names: ${result.sensorNames.join(', ')}`);
  console.log('\nSensor environment:');
  for (const [k, v] of Object.entries(result.sensorEnv)) console.log(`  ${k}=${v}`);
  console.log('Cockpit environment:');
  for (const [k, v] of Object.entries(result.cockpitEnv)) console.log(`  ${k}=${v}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`certs: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
