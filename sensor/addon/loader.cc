// SPDX-License-Identifier: Apache-2.0
#include "loader.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
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

// The first cgroup2 mount point in /proc/self/mountinfo ("" when there is none). Fields:
// "36 25 0:30 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw,...".
std::string FindCgroup2Mount() {
  FILE* f = fopen("/proc/self/mountinfo", "re");
  if (!f) return "";
  char line[4096];
  std::string found;
  while (found.empty() && fgets(line, sizeof(line), f)) {
    std::string l(line);
    size_t sep = l.find(" - ");
    if (sep == std::string::npos || l.compare(sep + 3, 8, "cgroup2 ") != 0) continue;
    size_t pos = 0;
    for (int field = 0; field < 4 && pos != std::string::npos; field++) pos = l.find(' ', pos + 1);
    if (pos == std::string::npos) continue;
    size_t end = l.find(' ', pos + 1);
    std::string mnt = l.substr(pos + 1, end - pos - 1);
    // mountinfo escapes space, tab, newline and backslash as \ooo.
    for (size_t i = 0; (i = mnt.find('\\', i)) != std::string::npos && i + 3 < mnt.size(); i++)
      mnt.replace(i, 4, 1, static_cast<char>(std::stoi(mnt.substr(i + 1, 3), nullptr, 8)));
    found = mnt;
  }
  fclose(f);
  return found;
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

void Loader::SetMaxEntries(const std::string& map, uint32_t entries) { maxEntries_[map] = entries; }

void Loader::EnableProgram(const std::string& name) { enabled_.push_back(name); }

void Loader::DisableProgram(const std::string& name, const std::string& reason) {
  disabled_[name] = reason;
}

void Loader::SetOptional(const std::string& name) { optional_.push_back(name); }

void Loader::SetDeferred(const std::string& name) { deferred_.push_back(name); }

bpf_map* Loader::FindMap(const std::string& name) const {
  if (!obj_) return nullptr;
  return bpf_object__find_map_by_name(obj_, name.c_str());
}

void Loader::OpenAndConfigure() {
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
  for (const auto& [name, entries] : maxEntries_) {
    bpf_map* m = FindMap(name);
    if (!m) throw LoadError("BPF object has no map '" + name + "'", ENOENT);
    int err = bpf_map__set_max_entries(m, entries);
    if (err) Fail("cannot size map " + name, err);
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

  programOrder_.clear();
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj_) {
    std::string name = bpf_program__name(prog);
    programOrder_.push_back(name);
    sections_[name] = bpf_program__section_name(prog);
    if (!bpf_program__autoload(prog)) continue;
    auto off = disabled_.find(name);
    if (off != disabled_.end()) {
      bpf_program__set_autoload(prog, false);
      continue;
    }
    // A BTF tracepoint this kernel does not have would fail the whole load: skip it.
    std::string type = SectionPrefix(prog);
    if (type == "tp_btf") {
      std::string sec = sections_[name];
      std::string tp = sec.substr(sec.find('/') + 1);
      if (libbpf_find_vmlinux_btf_id(tp.c_str(), BPF_TRACE_RAW_TP) < 0) {
        bpf_program__set_autoload(prog, false);
        disabled_[name] = "tracepoint " + tp + " is not in this kernel's BTF";
      }
    }
  }
}

void Loader::Load() {
  if (obj_) throw LoadError("BPF object already loaded", EALREADY);
  ResetLog();
  if (access(path_.c_str(), R_OK) != 0)
    Fail("cannot read BPF object " + path_ + " (build it with `make -C sensor`)", errno);

  // An optional program the verifier rejects is dropped and the object loaded again (libbpf
  // loads an object at most once): at most once per optional program.
  for (size_t attempt = 0;; attempt++) {
    OpenAndConfigure();
    ResetLog();
    int err = bpf_object__load(obj_);
    if (!err) break;
    std::string log = LogTail(64 * 1024);
    bpf_object__close(obj_);
    obj_ = nullptr;
    std::string culprit;
    for (const auto& name : optional_) {
      if (disabled_.count(name)) continue;
      if (log.find("prog '" + name + "': failed to load") != std::string::npos) culprit = name;
    }
    if (culprit.empty() || attempt >= optional_.size()) Fail("cannot load BPF object " + path_, err);
    // The verifier's last words before libbpf's "failed to load" line say why.
    std::string reason = "rejected at load: " + ErrnoText(err);
    size_t at = log.find("prog '" + culprit + "': failed to load");
    if (at != std::string::npos) {
      size_t from = at > 1500 ? at - 1500 : 0;
      reason += ": …" + log.substr(from, at - from);
    }
    disabled_[culprit] = reason;
  }
  loaded_ = true;
}

bpf_link* Loader::AttachOne(bpf_program* prog, const std::string& attachType, std::string& error) {
  ResetLog();
  bpf_link* link = nullptr;
  if (attachType == "iter") {
    // Iterators are attached as links here and run on demand (RunIterator).
    link = bpf_program__attach_iter(prog, nullptr);
  } else if (attachType == "cgroup" || attachType == "sockops") {
    // The cgroup v2 root: every process of the host, whatever its cgroup. Links coexist with
    // other programs attached there (multi-attach), so the sensor displaces nobody.
    if (cgroupRoot_.empty()) cgroupRoot_ = FindCgroup2Mount();
    if (cgroupRoot_.empty()) {
      error = "no cgroup v2 mount in /proc/self/mountinfo";
      return nullptr;
    }
    if (cgroupFd_ < 0) cgroupFd_ = open(cgroupRoot_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroupFd_ < 0) {
      error = "cannot open cgroup v2 root " + cgroupRoot_ + ": " + ErrnoText(errno);
      return nullptr;
    }
    link = bpf_program__attach_cgroup(prog, cgroupFd_);
  } else {
    link = bpf_program__attach(prog);
  }
  if (!link) {
    int err = errno;
    error = ErrnoText(err);
    std::string log = LogTail(2048);
    if (!log.empty()) error += ": " + log;
  }
  return link;
}

ProgramStatus* Loader::StatusOf(const std::string& name) {
  for (auto& st : statuses_)
    if (st.name == name) return &st;
  return nullptr;
}

std::vector<ProgramStatus> Loader::Attach() {
  if (!loaded()) throw LoadError("BPF object not loaded", EINVAL);
  if (!statuses_.empty()) return statuses_;
  for (const auto& name : programOrder_) {
    bpf_program* prog = bpf_object__find_program_by_name(obj_, name.c_str());
    if (!prog) continue;
    ProgramStatus st;
    st.name = name;
    st.attachType = SectionPrefix(prog);
    if (!bpf_program__autoload(prog)) {
      auto off = disabled_.find(name);
      if (off == disabled_.end()) continue;  // opt-in program not enabled: never listed
      st.error = "not loaded: " + off->second;
      statuses_.push_back(st);
      continue;
    }
    if (std::find(deferred_.begin(), deferred_.end(), name) != deferred_.end()) {
      st.error = "loaded, attached on demand";
      statuses_.push_back(st);
      continue;
    }
    bpf_link* link = AttachOne(prog, st.attachType, st.error);
    if (link) {
      st.attached = true;
      links_.push_back({prog, link});
    }
    statuses_.push_back(st);
  }
  return statuses_;
}

ProgramStatus Loader::AttachProgram(const std::string& name) {
  if (!loaded()) throw LoadError("BPF object not loaded", EINVAL);
  bpf_program* prog = bpf_object__find_program_by_name(obj_, name.c_str());
  if (!prog || !bpf_program__autoload(prog)) throw LoadError("program '" + name + "' is not loaded", ENOENT);
  ProgramStatus* st = StatusOf(name);
  if (!st) throw LoadError("program '" + name + "' not attached yet: call attach() first", EINVAL);
  for (const auto& a : links_)
    if (a.prog == prog) return *st;
  st->error.clear();
  bpf_link* link = AttachOne(prog, st->attachType, st->error);
  st->attached = link != nullptr;
  if (link) links_.push_back({prog, link});
  return *st;
}

void Loader::DetachProgram(const std::string& name) {
  for (auto it = links_.begin(); it != links_.end(); ++it) {
    if (name != bpf_program__name(it->prog)) continue;
    bpf_link__destroy(it->link);
    links_.erase(it);
    if (ProgramStatus* st = StatusOf(name)) {
      st->attached = false;
      st->error = std::find(deferred_.begin(), deferred_.end(), name) != deferred_.end()
                      ? "loaded, attached on demand"
                      : "detached at run time";
    }
    return;
  }
}

std::vector<ProgramRunStats> Loader::RunStats() const {
  std::vector<ProgramRunStats> out;
  if (!loaded()) return out;
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj_) {
    if (!bpf_program__autoload(prog)) continue;
    struct bpf_prog_info info = {};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) != 0) continue;
    out.push_back({bpf_program__name(prog), info.id, info.run_time_ns, info.run_cnt});
  }
  return out;
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
  if (tgids.size() > 1024) throw LoadError("at most 1024 own tgids", E2BIG);
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

void Loader::AddOwnTgids(const std::vector<uint32_t>& tgids) {
  int fd = MapFd("own_tgids");
  uint8_t one = 1;
  for (uint32_t t : tgids)
    if (bpf_map_update_elem(fd, &t, &one, BPF_ANY) != 0) Fail("cannot add own tgid " + std::to_string(t), errno);
}

uint32_t Loader::MapKeySize(const std::string& name) const {
  bpf_map* m = FindMap(name);
  if (!m) throw LoadError("BPF map '" + name + "' not available", ENOENT);
  return bpf_map__key_size(m);
}

uint32_t Loader::MapValueSize(const std::string& name) const {
  bpf_map* m = FindMap(name);
  if (!m) throw LoadError("BPF map '" + name + "' not available", ENOENT);
  return bpf_map__value_size(m);
}

void Loader::MapUpdate(const std::string& name, const void* key, size_t keyLen, const void* value,
                       size_t valueLen, uint64_t flags) {
  int fd = MapFd(name);
  if (keyLen != MapKeySize(name) || valueLen != MapValueSize(name))
    throw LoadError("map " + name + ": key/value are " + std::to_string(keyLen) + "/" +
                        std::to_string(valueLen) + " bytes, the map's are " +
                        std::to_string(MapKeySize(name)) + "/" + std::to_string(MapValueSize(name)),
                    EINVAL);
  if (bpf_map_update_elem(fd, key, value, flags) != 0) Fail("cannot update map " + name, errno);
}

bool Loader::MapDelete(const std::string& name, const void* key, size_t keyLen) {
  int fd = MapFd(name);
  if (keyLen != MapKeySize(name)) throw LoadError("map " + name + ": wrong key size", EINVAL);
  if (bpf_map_delete_elem(fd, key) == 0) return true;
  if (errno == ENOENT) return false;
  Fail("cannot delete from map " + name, errno);
}

uint32_t Loader::MapDump(const std::string& name, std::vector<uint8_t>& keys, std::vector<uint8_t>& values) {
  int fd = MapFd(name);
  bpf_map* m = FindMap(name);
  uint32_t ks = bpf_map__key_size(m), vs = bpf_map__value_size(m);
  enum bpf_map_type type = bpf_map__type(m);
  if (type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
      type == BPF_MAP_TYPE_LRU_PERCPU_HASH)
    throw LoadError("map " + name + " is per-CPU: not dumpable as one value per key", EINVAL);
  keys.clear();
  values.clear();
  if (type == BPF_MAP_TYPE_ARRAY) {
    uint32_t n = bpf_map__max_entries(m);
    keys.resize(static_cast<size_t>(n) * ks);
    values.resize(static_cast<size_t>(n) * vs);
    for (uint32_t i = 0; i < n; i++) {
      memcpy(&keys[static_cast<size_t>(i) * ks], &i, sizeof(i));
      if (bpf_map_lookup_elem(fd, &i, &values[static_cast<size_t>(i) * vs]) != 0)
        Fail("cannot read map " + name, errno);
    }
    return n;
  }
  // Hashes: batched lookups (consistent under concurrent deletes, unlike get_next_key, which
  // restarts from the first key when the current one disappears).
  const uint32_t chunk = 1024;
  std::vector<uint8_t> k(static_cast<size_t>(chunk) * ks), v(static_cast<size_t>(chunk) * vs);
  uint64_t inBatch = 0, outBatch = 0;
  bool first = true;
  uint32_t total = 0;
  for (;;) {
    uint32_t count = chunk;
    int err = bpf_map_lookup_batch(fd, first ? nullptr : &inBatch, &outBatch, k.data(), v.data(), &count, nullptr);
    int e = err ? errno : 0;
    if (err && e != ENOENT) Fail("cannot read map " + name, e);
    keys.insert(keys.end(), k.begin(), k.begin() + static_cast<size_t>(count) * ks);
    values.insert(values.end(), v.begin(), v.begin() + static_cast<size_t>(count) * vs);
    total += count;
    if (e == ENOENT) break;
    inBatch = outBatch;
    first = false;
  }
  return total;
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
  if (cgroupFd_ >= 0) close(cgroupFd_);
  cgroupFd_ = -1;
  if (obj_) bpf_object__close(obj_);
  obj_ = nullptr;
  loaded_ = false;
}

}  // namespace soc
