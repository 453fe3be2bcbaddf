// SPDX-License-Identifier: Apache-2.0
#include "loader.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace soc {

namespace {

// libbpf logs through one process-wide hook. Keep the recent output (verifier logs end with the
// rejected instruction, so the tail is what matters) for error messages.
constexpr size_t kLogKeep = 64 * 1024;
std::mutex g_logMutex;
std::string g_log;

int CaptureLibbpfLog(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  // The verifier log arrives as one message of any length: size it first, keep all of it.
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  if (n <= 0) return n;
  std::string line(static_cast<size_t>(n) + 1, '\0');
  vsnprintf(line.data(), line.size(), fmt, args);
  line.pop_back();
  std::lock_guard<std::mutex> lock(g_logMutex);
  g_log += line;
  if (g_log.size() > 2 * kLogKeep) g_log.erase(0, g_log.size() - kLogKeep);
  return n;
}

void ResetLog() {
  std::lock_guard<std::mutex> lock(g_logMutex);
  g_log.clear();
}

std::string LogTail(size_t max = 8192) {
  std::lock_guard<std::mutex> lock(g_logMutex);
  std::string tail = g_log.size() > max ? "…" + g_log.substr(g_log.size() - max) : g_log;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
  return tail;
}

std::string ErrnoText(int err) {
  if (err < 0) err = -err;
  char buf[256];
  libbpf_strerror(err, buf, sizeof(buf));
  std::string text = std::string(buf) + " (errno " + std::to_string(err) + ")";
  if (err == EPERM || err == EACCES)
    text += ": loading BPF needs root or CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN)";
  return text;
}

[[noreturn]] void Fail(const std::string& what, int err) {
  std::string msg = what + ": " + ErrnoText(err);
  std::string log = LogTail();
  if (!log.empty()) msg += "\nlibbpf log:\n" + log;
  throw LoadError(msg, err < 0 ? -err : err);
}

std::string SectionPrefix(const bpf_program* prog) {
  std::string sec = bpf_program__section_name(prog);
  if (!sec.empty() && sec[0] == '?') sec.erase(0, 1);
  size_t slash = sec.find('/');
  return slash == std::string::npos ? sec : sec.substr(0, slash);
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void InstallLibbpfLogCapture() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(CaptureLibbpfLog); });
}

Loader::Loader(std::string objectPath) : path_(std::move(objectPath)) {}

Loader::~Loader() { Close(); }

void Loader::SetRingBufferBytes(uint64_t bytes) {
  long page = sysconf(_SC_PAGESIZE);
  if (bytes == 0 || (bytes & (bytes - 1)) != 0 || bytes % static_cast<uint64_t>(page) != 0 ||
      bytes > (1ull << 32))
    throw LoadError("ring buffer size " + std::to_string(bytes) +
                        " is invalid: it must be a power of two, a multiple of the page size (" +
                        std::to_string(page) + ") and at most 4 GiB",
                    EINVAL);
  ringBytes_ = bytes;
}

void Loader::SetRodata(const std::string& name, uint64_t value) { rodata_[name] = value; }

void Loader::EnableProgram(const std::string& name) { enabled_.push_back(name); }

bpf_map* Loader::FindMap(const std::string& name) const {
  if (!obj_) return nullptr;
  return bpf_object__find_map_by_name(obj_, name.c_str());
}

void Loader::Load() {
  if (obj_) throw LoadError("BPF object already loaded", EALREADY);
  ResetLog();
  if (access(path_.c_str(), R_OK) != 0)
    Fail("cannot read BPF object " + path_ + " (build it with `make -C sensor`)", errno);

  obj_ = bpf_object__open_file(path_.c_str(), nullptr);
  if (!obj_) {
    int err = errno;
    Fail("cannot open BPF object " + path_, err);
  }

  if (ringBytes_) {
    bpf_map* rb = FindMap("events");
    if (!rb) throw LoadError("BPF object has no ring buffer map 'events'", ENOENT);
    int err = bpf_map__set_max_entries(rb, static_cast<uint32_t>(ringBytes_));
    if (err) Fail("cannot size the ring buffer", err);
  }

  if (!rodata_.empty()) {
    // Read-only variables live in the ".rodata" section; the object's BTF says where each is.
    bpf_map* ro = nullptr;
    bpf_map* m;
    bpf_object__for_each_map(m, obj_) {
      if (EndsWith(bpf_map__name(m), ".rodata")) ro = m;
    }
    const struct btf* btf = bpf_object__btf(obj_);
    int secId = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
    if (!ro || secId < 0) throw LoadError("BPF object has no .rodata section with BTF", ENOENT);
    size_t size = 0;
    const void* initial = bpf_map__initial_value(ro, &size);
    std::vector<uint8_t> data(static_cast<const uint8_t*>(initial),
                              static_cast<const uint8_t*>(initial) + size);
    const struct btf_type* sec = btf__type_by_id(btf, secId);
    for (const auto& [name, value] : rodata_) {
      bool found = false;
      const struct btf_var_secinfo* vi = btf_var_secinfos(sec);
      for (int i = 0; i < btf_vlen(sec); i++, vi++) {
        const struct btf_type* var = btf__type_by_id(btf, vi->type);
        if (name != btf__name_by_offset(btf, var->name_off)) continue;
        if (vi->size != 4 && vi->size != 8) throw LoadError("rodata " + name + " is not a u32/u64", EINVAL);
        if (vi->offset + vi->size > size) throw LoadError("rodata " + name + " out of bounds", EINVAL);
        if (vi->size == 4) {
          uint32_t v32 = static_cast<uint32_t>(value);
          memcpy(&data[vi->offset], &v32, 4);
        } else {
          memcpy(&data[vi->offset], &value, 8);
        }
        found = true;
      }
      if (!found) throw LoadError("BPF object has no read-only variable '" + name + "'", ENOENT);
    }
    int err = bpf_map__set_initial_value(ro, data.data(), data.size());
    if (err) Fail("cannot set read-only variables", err);
  }

  for (const auto& name : enabled_) {
    bpf_program* prog = bpf_object__find_program_by_name(obj_, name.c_str());
    if (!prog) throw LoadError("BPF object has no program '" + name + "'", ENOENT);
    bpf_program__set_autoload(prog, true);
  }

  int err = bpf_object__load(obj_);
  if (err) {
    bpf_object__close(obj_);
    obj_ = nullptr;
    Fail("cannot load BPF object " + path_, err);
  }
  loaded_ = true;
}

std::vector<ProgramStatus> Loader::Attach() {
  if (!loaded()) throw LoadError("BPF object not loaded", EINVAL);
  if (!statuses_.empty()) return statuses_;
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj_) {
    if (!bpf_program__autoload(prog)) continue;  // opt-in program not enabled: never loaded
    ProgramStatus st;
    st.name = bpf_program__name(prog);
    st.attachType = SectionPrefix(prog);
    ResetLog();
    // Iterators are attached as links here and run on demand (RunIterator).
    bpf_link* link = st.attachType == "iter" ? bpf_program__attach_iter(prog, nullptr)
                                              : bpf_program__attach(prog);
    if (!link) {
      int err = errno;
      st.error = ErrnoText(err);
      std::string log = LogTail(2048);
      if (!log.empty()) st.error += ": " + log;
    } else {
      st.attached = true;
      links_.push_back({prog, link});
    }
    statuses_.push_back(st);
  }
  return statuses_;
}

std::vector<uint8_t> Loader::RunIterator(const std::string& programName) {
  for (const auto& a : links_) {
    if (programName != bpf_program__name(a.prog)) continue;
    int fd = bpf_iter_create(bpf_link__fd(a.link));
    if (fd < 0) Fail("cannot create iterator " + programName, errno);
    std::vector<uint8_t> out;
    std::vector<uint8_t> chunk(64 * 1024);
    for (;;) {
      ssize_t n = read(fd, chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        close(fd);
        Fail("iterator " + programName + " failed", err);
      }
      if (n == 0) break;
      out.insert(out.end(), chunk.begin(), chunk.begin() + n);
    }
    close(fd);
    return out;
  }
  throw LoadError("iterator program '" + programName + "' is not attached", ENOENT);
}

int Loader::MapFd(const std::string& name) const {
  bpf_map* m = FindMap(name);
  if (!m || !loaded_) throw LoadError("BPF map '" + name + "' not available", ENOENT);
  return bpf_map__fd(m);
}

std::vector<uint64_t> Loader::SumPerCpuCounters(const std::string& mapName, uint32_t entries) const {
  std::vector<uint64_t> sums(entries, 0);
  if (!loaded()) return sums;
  int fd = MapFd(mapName);
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) Fail("cannot count possible CPUs", ncpu);
  std::vector<uint64_t> values(static_cast<size_t>(ncpu));
  for (uint32_t i = 0; i < entries; i++) {
    if (bpf_map_lookup_elem(fd, &i, values.data()) != 0) Fail("cannot read counters " + mapName, errno);
    for (uint64_t v : values) sums[i] += v;
  }
  return sums;
}

void Loader::SetOwnTgids(const std::vector<uint32_t>& tgids) {
  int fd = MapFd("own_tgids");
  if (tgids.size() > 64) throw LoadError("at most 64 own tgids", E2BIG);
  std::vector<uint32_t> old;
  uint32_t key, next;
  uint32_t* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    old.push_back(next);
    key = next;
    prev = &key;
  }
  for (uint32_t k : old) bpf_map_delete_elem(fd, &k);
  uint8_t one = 1;
  for (uint32_t t : tgids)
    if (bpf_map_update_elem(fd, &t, &one, BPF_ANY) != 0) Fail("cannot set own tgid " + std::to_string(t), errno);
}

void Loader::Detach() {
  for (auto& a : links_) bpf_link__destroy(a.link);
  links_.clear();
  for (auto& st : statuses_) {
    if (st.attached) {
      st.attached = false;
      st.error = "detached (sensor stopped)";
    }
  }
}

void Loader::Close() {
  Detach();
  if (obj_) bpf_object__close(obj_);
  obj_ = nullptr;
  loaded_ = false;
}

}  // namespace soc
