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
  void EnableProgram(const std::string& name);

  // Opens and loads the object. Throws LoadError.
  void Load();
  // Attaches every loaded program; never throws for one program: statuses say what failed.
  std::vector<ProgramStatus> Attach();
  const std::vector<ProgramStatus>& Programs() const { return statuses_; }
  // Runs an attached iter/* program to completion and returns what it wrote.
  std::vector<uint8_t> RunIterator(const std::string& programName);

  int MapFd(const std::string& name) const;
  // Per-CPU array of u64 counters, summed over CPUs.
  std::vector<uint64_t> SumPerCpuCounters(const std::string& mapName, uint32_t entries) const;
  void SetOwnTgids(const std::vector<uint32_t>& tgids);

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

  std::string path_;
  bpf_object* obj_ = nullptr;
  bool loaded_ = false;
  uint64_t ringBytes_ = 0;
  std::map<std::string, uint64_t> rodata_;
  std::vector<std::string> enabled_;
  std::vector<Attached> links_;
  std::vector<ProgramStatus> statuses_;
};

}  // namespace soc
