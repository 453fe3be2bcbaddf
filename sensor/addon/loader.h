// SPDX-License-Identifier: Apache-2.0
//
// libbpf side of the addon, free of N-API: opens a BPF object, configures it before load (ring
// buffer size, read-only variables, opt-in programs), loads, attaches and reads its counters.
// Every failure throws LoadError with libbpf's message, errno and the captured libbpf log (the
// verifier log when a program is rejected), so the JavaScript side can say exactly why.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

struct bpf_object;
struct bpf_program;
struct bpf_link;
struct bpf_map;

namespace soc {

class LoadError : public std::runtime_error {
 public:
  LoadError(const std::string& msg, int err) : std::runtime_error(msg), err_(err) {}
  int err() const { return err_; }

 private:
  int err_;
};

struct ProgramRunStats {
  std::string name;
  uint32_t id = 0;
  uint64_t runTimeNs = 0;  // only counted while kernel.bpf_stats_enabled = 1
  uint64_t runCount = 0;
};

struct ProgramStatus {
  std::string name;
  std::string attachType;  // the section prefix: tp_btf, iter, raw_tp, ...
  bool attached = false;
  std::string error;
};

// Installs the libbpf print hook (once per process). The hook keeps the recent log in memory
// so errors can quote it.
void InstallLibbpfLogCapture();

class Loader {
 public:
  explicit Loader(std::string objectPath);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Before Load().
  void SetRingBufferBytes(uint64_t bytes);
  void SetRodata(const std::string& name, uint64_t value);
  void SetMaxEntries(const std::string& map, uint32_t entries);
  // Loads an opt-in program (section name starting with '?').
  void EnableProgram(const std::string& name);
  // Does not load a program (its status says why).
  void DisableProgram(const std::string& name, const std::string& reason);
  // A program whose rejection must not fail the whole object: Load() retries without it.
  void SetOptional(const std::string& name);
  // A program Attach() loads but leaves detached (attached on demand with AttachProgram).
  void SetDeferred(const std::string& name);
  // cgroup v2 mount point that cgroup/* and sockops programs attach to (default: the first
  // cgroup2 mount in /proc/self/mountinfo — /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid
  // hosts).
  void SetCgroupRoot(const std::string& path) { cgroupRoot_ = path; }

  // Opens and loads the object. Throws LoadError. BTF tracepoints missing from this kernel
  // are skipped before load; optional programs the verifier rejects are dropped and retried.
  void Load();
  // Attaches every loaded program; never throws for one program: statuses say what failed.
  // Programs that were not loaded are listed too (attached false, with the reason).
  std::vector<ProgramStatus> Attach();
  const std::vector<ProgramStatus>& Programs() const { return statuses_; }
  // Attaches / detaches one loaded program at run time (no reload). Throws LoadError when the
  // program is unknown or was not loaded; an attach failure is in the returned status.
  ProgramStatus AttachProgram(const std::string& name);
  void DetachProgram(const std::string& name);
  // Kernel id and run statistics of every loaded program (bpf_prog_info).
  std::vector<ProgramRunStats> RunStats() const;
  // Runs an attached iter/* program to completion and returns what it wrote.
  std::vector<uint8_t> RunIterator(const std::string& programName);

  int MapFd(const std::string& name) const;
  // Per-CPU array of u64 counters, summed over CPUs.
  std::vector<uint64_t> SumPerCpuCounters(const std::string& mapName, uint32_t entries) const;
  void SetOwnTgids(const std::vector<uint32_t>& tgids);
  void AddOwnTgids(const std::vector<uint32_t>& tgids);

  // Generic access to a (non-per-CPU) map by name, with raw key/value bytes.
  uint32_t MapKeySize(const std::string& name) const;
  uint32_t MapValueSize(const std::string& name) const;
  void MapUpdate(const std::string& name, const void* key, size_t keyLen, const void* value,
                 size_t valueLen, uint64_t flags);
  bool MapDelete(const std::string& name, const void* key, size_t keyLen);
  // Every entry (batch lookup for hashes, whole array otherwise): keys and values concatenated.
  uint32_t MapDump(const std::string& name, std::vector<uint8_t>& keys, std::vector<uint8_t>& values);

  // Detaches every link; maps stay readable (idempotent).
  void Detach();
  // Detaches every link and closes the object (idempotent).
  void Close();
  bool loaded() const { return obj_ != nullptr && loaded_; }

 private:
  struct Attached {
    bpf_program* prog;
    bpf_link* link;
  };
  bpf_map* FindMap(const std::string& name) const;
  // Opens the object and applies everything configured before Load().
  void OpenAndConfigure();
  bpf_link* AttachOne(bpf_program* prog, const std::string& attachType, std::string& error);
  ProgramStatus* StatusOf(const std::string& name);

  std::string path_;
  bpf_object* obj_ = nullptr;
  bool loaded_ = false;
  uint64_t ringBytes_ = 0;
  std::map<std::string, uint64_t> rodata_;
  std::map<std::string, uint32_t> maxEntries_;
  std::vector<std::string> enabled_;
  std::map<std::string, std::string> disabled_;  // name -> why it is not loaded
  std::vector<std::string> optional_;
  std::vector<std::string> deferred_;
  std::vector<std::string> programOrder_;  // every program of the object, in object order
  std::map<std::string, std::string> sections_;
  std::string cgroupRoot_;
  int cgroupFd_ = -1;
  std::vector<Attached> links_;
  std::vector<ProgramStatus> statuses_;
};

}  // namespace soc
