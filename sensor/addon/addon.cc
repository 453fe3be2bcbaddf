// SPDX-License-Identifier: Apache-2.0
//
// soc_sensor.node: the bridge between the BPF programs (sensor/bpf) and the TypeScript sensor.
//
// A worker thread drains the BPF ring buffer and hands JavaScript batches of raw records (the
// wire format of sensor/bpf/events.h, concatenated) through a thread-safe function. Batches are
// cut by size and age, so JavaScript runs once per batch, not once per event. The queue toward
// JavaScript is bounded: when JavaScript falls behind, whole batches are dropped and counted
// (never silently), so a slow consumer cannot grow the heap without bound.
//
// Lifecycle (one Sensor per BPF object): new Sensor(path, opts) -> load() -> attach() ->
// [runIterator()] -> start(onBatch) -> ... -> stop(). stop() detaches every program first, then
// drains what the ring buffer still holds, delivers it, and resolves once the last callback has
// run: onBatch is never called after the promise returned by stop() resolves.
#include <bpf/libbpf.h>
#include <bpf/libbpf_version.h>
#include <napi.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "events.h"
#include "loader.h"

namespace {

using Clock = std::chrono::steady_clock;

class Sensor;

// One item through the thread-safe function: a batch of records, or a flush marker.
struct Delivery {
  uint8_t* data = nullptr;  // malloc'ed; ownership passes to the JavaScript Buffer
  size_t len = 0;
  uint32_t records = 0;
  uint64_t flushId = 0;  // non-zero: resolve this flush() promise (after earlier batches)
};

void CallJs(Napi::Env env, Napi::Function onBatch, Sensor* sensor, Delivery* d);
using Tsfn = Napi::TypedThreadSafeFunction<Sensor, Delivery, CallJs>;

Napi::Error MakeError(Napi::Env env, const std::string& msg, int err) {
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

uint64_t OptU64(const Napi::Object& o, const char* key, uint64_t def) {
  if (!o.Has(key) || o.Get(key).IsUndefined()) return def;
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d < 0 || d > 9007199254740991.0) throw Napi::RangeError::New(o.Env(), std::string(key) + " out of range");
  return static_cast<uint64_t>(d);
}

class Sensor : public Napi::ObjectWrap<Sensor> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Sensor",
                       {
                           InstanceMethod<&Sensor::Load>("load"),
                           InstanceMethod<&Sensor::Attach>("attach"),
                           InstanceMethod<&Sensor::Programs>("programs"),
                           InstanceMethod<&Sensor::RunIterator>("runIterator"),
                           InstanceMethod<&Sensor::Start>("start"),
                           InstanceMethod<&Sensor::Flush>("flush"),
                           InstanceMethod<&Sensor::SetOwnTgids>("setOwnTgids"),
                           InstanceMethod<&Sensor::AddOwnTgids>("addOwnTgids"),
                           InstanceMethod<&Sensor::AttachProgram>("attachProgram"),
                           InstanceMethod<&Sensor::DetachProgram>("detachProgram"),
                           InstanceMethod<&Sensor::MapInfo>("mapInfo"),
                           InstanceMethod<&Sensor::MapUpdate>("mapUpdate"),
                           InstanceMethod<&Sensor::MapDelete>("mapDelete"),
                           InstanceMethod<&Sensor::MapDump>("mapDump"),
                           InstanceMethod<&Sensor::RunStats>("runStats"),
                           InstanceMethod<&Sensor::Stats>("stats"),
                           InstanceMethod<&Sensor::Stop>("stop"),
                       });
  }

  // new Sensor(objectPath, { ringBufferBytes, wakeupBytes, batchBytes, batchMs, pollMs,
  //                          maxQueuedBatches, enablePrograms, benchTgid, disablePrograms,
  //                          optionalPrograms, maxEntries, cgroupRoot, rodata })
  explicit Sensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Sensor>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString())
      throw Napi::TypeError::New(env, "new Sensor(objectPath, options?): objectPath must be a string");
    loader_ = std::make_unique<soc::Loader>(info[0].As<Napi::String>().Utf8Value());
    Napi::Object o = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    try {
      uint64_t ring = OptU64(o, "ringBufferBytes", 0);
      if (ring) loader_->SetRingBufferBytes(ring);
      if (o.Has("wakeupBytes")) loader_->SetRodata("wakeup_bytes", OptU64(o, "wakeupBytes", 256 * 1024));
      if (o.Has("benchTgid")) loader_->SetRodata("bench_tgid", OptU64(o, "benchTgid", 0));
      if (o.Has("rodata") && o.Get("rodata").IsObject()) {
        Napi::Object r = o.Get("rodata").As<Napi::Object>();
        Napi::Array names = r.GetPropertyNames();
        for (uint32_t i = 0; i < names.Length(); i++) {
          std::string name = names.Get(i).ToString().Utf8Value();
          Napi::Value v = r.Get(name);
          uint64_t value;
          if (v.IsBigInt()) {
            bool lossless = true;
            value = v.As<Napi::BigInt>().Uint64Value(&lossless);
            if (!lossless) throw Napi::RangeError::New(env, "rodata " + name + " does not fit 64 bits");
          } else {
            value = OptU64(r, name.c_str(), 0);
          }
          loader_->SetRodata(name, value);
        }
      }
      if (o.Has("maxEntries") && o.Get("maxEntries").IsObject()) {
        Napi::Object m = o.Get("maxEntries").As<Napi::Object>();
        Napi::Array names = m.GetPropertyNames();
        for (uint32_t i = 0; i < names.Length(); i++) {
          std::string name = names.Get(i).ToString().Utf8Value();
          loader_->SetMaxEntries(name, static_cast<uint32_t>(OptU64(m, name.c_str(), 1)));
        }
      }
      if (o.Has("disablePrograms") && o.Get("disablePrograms").IsObject()) {
        Napi::Object d = o.Get("disablePrograms").As<Napi::Object>();
        Napi::Array names = d.GetPropertyNames();
        for (uint32_t i = 0; i < names.Length(); i++) {
          std::string name = names.Get(i).ToString().Utf8Value();
          loader_->DisableProgram(name, d.Get(name).ToString().Utf8Value());
        }
      }
      if (o.Has("optionalPrograms") && o.Get("optionalPrograms").IsArray()) {
        Napi::Array a = o.Get("optionalPrograms").As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); i++) loader_->SetOptional(a.Get(i).ToString().Utf8Value());
      }
      if (o.Has("deferredPrograms") && o.Get("deferredPrograms").IsArray()) {
        Napi::Array a = o.Get("deferredPrograms").As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); i++) loader_->SetDeferred(a.Get(i).ToString().Utf8Value());
      }
      if (o.Has("cgroupRoot") && o.Get("cgroupRoot").IsString())
        loader_->SetCgroupRoot(o.Get("cgroupRoot").ToString().Utf8Value());
    } catch (const soc::LoadError& e) {
      throw MakeError(env, e.what(), e.err());
    }
    batchBytes_ = std::max<uint64_t>(OptU64(o, "batchBytes", 256 * 1024), 64 * 1024);
    batchMs_ = std::max<uint64_t>(OptU64(o, "batchMs", 20), 1);
    pollMs_ = std::max<uint64_t>(OptU64(o, "pollMs", 10), 1);
    maxQueued_ = std::max<uint64_t>(OptU64(o, "maxQueuedBatches", 64), 1);
    if (o.Has("enablePrograms")) {
      Napi::Value v = o.Get("enablePrograms");
      if (!v.IsArray()) throw Napi::TypeError::New(env, "enablePrograms must be an array of names");
      Napi::Array a = v.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) loader_->EnableProgram(a.Get(i).ToString().Utf8Value());
    }
    env_ = env;
    napi_add_env_cleanup_hook(env, &Sensor::OnEnvCleanup, this);
  }

  ~Sensor() override {
    if (env_) napi_remove_env_cleanup_hook(env_, &Sensor::OnEnvCleanup, this);
    ShutdownWorker();
    CloseResources();
  }

  // Called on the JavaScript thread for each item, in order.
  void Deliver(Napi::Env env, Napi::Function onBatch, Delivery* d) {
    std::unique_ptr<Delivery> guard(d);
    if (d->data) {
      inflight_.fetch_sub(1);
      if (env == nullptr || onBatch.IsEmpty()) {  // environment shutting down
        free(d->data);
        return;
      }
      Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::NewOrCopy(
          env, d->data, d->len, [](Napi::Env, uint8_t* p) { free(p); });
      recordsDelivered_.fetch_add(d->records);
      bytesDelivered_.fetch_add(d->len);
      batchesDelivered_.fetch_add(1);
      try {
        onBatch.Call({buf, Napi::Number::New(env, d->records)});
      } catch (const Napi::Error& e) {
        // The consumer threw: surface it as an uncaught exception rather than lose it here.
        napi_fatal_exception(env, e.Value());
      }
    }
    if (d->flushId && env != nullptr) ResolveFlush(d->flushId);
  }

  // The worker released the thread-safe function and every queued item has been delivered.
  // Also reached when the environment tears the function down first (process exit): then the
  // worker may still run, so stop it before joining.
  void OnWorkerDone(Napi::Env env) {
    ShutdownWorker();
    running_ = false;
    CloseResources();
    try {
      for (auto& [id, deferred] : flushes_) deferred.Resolve(env.Undefined());
      for (auto& deferred : stopWaiters_) deferred.Resolve(env.Undefined());
      Unref();  // taken in start(): the object may be collected again
    } catch (const Napi::Error&) {
      // The environment is shutting down: nobody is left to resolve for.
    }
    flushes_.clear();
    stopWaiters_.clear();
  }

 private:
  Napi::Value Load(const Napi::CallbackInfo& info) {
    try {
      loader_->Load();
    } catch (const soc::LoadError& e) {
      throw MakeError(info.Env(), e.what(), e.err());
    }
    return info.Env().Undefined();
  }

  Napi::Value Attach(const Napi::CallbackInfo& info) {
    try {
      loader_->Attach();
    } catch (const soc::LoadError& e) {
      throw MakeError(info.Env(), e.what(), e.err());
    }
    return Programs(info);
  }

  static Napi::Object StatusObject(Napi::Env env, const soc::ProgramStatus& st) {
    Napi::Object p = Napi::Object::New(env);
    p.Set("name", st.name);
    p.Set("attachType", st.attachType);
    p.Set("attached", st.attached);
    p.Set("error", st.error);
    return p;
  }

  Napi::Value Programs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto& list = loader_->Programs();
    Napi::Array out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) out.Set(static_cast<uint32_t>(i), StatusObject(env, list[i]));
    return out;
  }

  static std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* usage) {
    if (info.Length() <= i || !info[i].IsString()) throw Napi::TypeError::New(info.Env(), usage);
    return info[i].As<Napi::String>().Utf8Value();
  }

  static Napi::Buffer<uint8_t> BufferArg(const Napi::CallbackInfo& info, size_t i, const char* usage) {
    if (info.Length() <= i || !info[i].IsBuffer()) throw Napi::TypeError::New(info.Env(), usage);
    return info[i].As<Napi::Buffer<uint8_t>>();
  }

  Napi::Value AttachProgram(const Napi::CallbackInfo& info) {
    std::string name = StringArg(info, 0, "attachProgram(name)");
    try {
      return StatusObject(info.Env(), loader_->AttachProgram(name));
    } catch (const soc::LoadError& e) {
      throw MakeError(info.Env(), e.what(), e.err());
    }
  }

  Napi::Value DetachProgram(const Napi::CallbackInfo& info) {
    loader_->DetachProgram(StringArg(info, 0, "detachProgram(name)"));
    return info.Env().Undefined();
  }

  Napi::Value MapInfo(const Napi::CallbackInfo& info) {
    std::string name = StringArg(info, 0, "mapInfo(name)");
    try {
      Napi::Object o = Napi::Object::New(info.Env());
      o.Set("keySize", loader_->MapKeySize(name));
      o.Set("valueSize", loader_->MapValueSize(name));
      return o;
    } catch (const soc::LoadError& e) {
      throw MakeError(info.Env(), e.what(), e.err());
    }
  }

  Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
    const char* usage = "mapUpdate(name, key: Buffer, value: Buffer, flags?: number)";
    std::string name = StringArg(info, 0, usage);
    auto key = BufferArg(info, 1, usage);
    auto value = BufferArg(info, 2, usage);
    uint64_t flags = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int64Value() : 0;
    try {
      loader_->MapUpdate(name, key.Data(), key.Length(), value.Data(), value.Length(), flags);
    } catch (const soc::LoadError& e) {
      throw MakeError(info.Env(), e.what(), e.err());
    }
    return info.Env().Undefined();
  }

  Napi::Value MapDelete(const Napi::CallbackInfo& info) {
    const char* usage = "mapDelete(name, key: Buffer)";
    std::string name = StringArg(info, 0, usage);
    auto key = BufferArg(info, 1, usage);
    try {
      return Napi::Boolean::New(info.Env(), loader_->MapDelete(name, key.Data(), key.Length()));
    } catch (const soc::LoadError& e) {
      throw MakeError(info.Env(), e.what(), e.err());
    }
  }

  Napi::Value MapDump(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = StringArg(info, 0, "mapDump(name)");
    std::vector<uint8_t> keys, values;
    uint32_t n;
    try {
      n = loader_->MapDump(name, keys, values);
    } catch (const soc::LoadError& e) {
      throw MakeError(env, e.what(), e.err());
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("count", n);
    o.Set("keys", Napi::Buffer<uint8_t>::Copy(env, keys.data(), keys.size()));
    o.Set("values", Napi::Buffer<uint8_t>::Copy(env, values.data(), values.size()));
    return o;
  }

  Napi::Value RunIterator(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "runIterator(programName)");
    try {
      std::vector<uint8_t> out = loader_->RunIterator(info[0].As<Napi::String>().Utf8Value());
      return Napi::Buffer<uint8_t>::Copy(env, out.data(), out.size());
    } catch (const soc::LoadError& e) {
      throw MakeError(env, e.what(), e.err());
    }
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(env, "start(onBatch)");
    if (running_) throw MakeError(env, "sensor already started", EALREADY);
    if (stopped_) throw MakeError(env, "sensor stopped: create a new Sensor to start again", EINVAL);
    if (!loader_->loaded()) throw MakeError(env, "sensor not loaded: call load() and attach() first", EINVAL);
    int fd;
    try {
      fd = loader_->MapFd("events");
    } catch (const soc::LoadError& e) {
      throw MakeError(env, e.what(), e.err());
    }
    rb_ = ring_buffer__new(fd, &Sensor::OnSample, this, nullptr);
    if (!rb_) throw MakeError(env, std::string("cannot open the ring buffer: ") + strerror(errno), errno);
    tsfn_ = Tsfn::New(env, info[0].As<Napi::Function>(), "soc-sensor-ringbuf", 0, 1, this,
                      [](Napi::Env env, void*, Sensor* self) { self->OnWorkerDone(env); });
    Ref();  // a running sensor must not be collected while its worker uses it
    running_ = true;
    worker_ = std::thread([this] { Run(); });
    return env.Undefined();
  }

  // Resolves once every record read from the ring buffer before the call has been delivered.
  Napi::Value Flush(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto deferred = Napi::Promise::Deferred::New(env);
    if (!running_ || stopRequested_) {
      deferred.Resolve(env.Undefined());
      return deferred.Promise();
    }
    uint64_t id = nextFlushId_++;
    flushes_.emplace(id, deferred);
    {
      std::lock_guard<std::mutex> lock(flushMutex_);
      flushRequests_.push_back(id);
    }
    return deferred.Promise();
  }

  Napi::Value SetOwnTgids(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "setOwnTgids(tgids: number[])");
    Napi::Array a = info[0].As<Napi::Array>();
    std::vector<uint32_t> tgids;
    for (uint32_t i = 0; i < a.Length(); i++) tgids.push_back(a.Get(i).ToNumber().Uint32Value());
    try {
      loader_->SetOwnTgids(tgids);
    } catch (const soc::LoadError& e) {
      throw MakeError(env, e.what(), e.err());
    }
    return env.Undefined();
  }

  Napi::Value RunStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto list = loader_->RunStats();
    Napi::Array out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", list[i].name);
      o.Set("id", list[i].id);
      o.Set("runTimeNs", Napi::BigInt::New(env, list[i].runTimeNs));
      o.Set("runCount", Napi::BigInt::New(env, list[i].runCount));
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  Napi::Value AddOwnTgids(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "addOwnTgids(tgids: number[])");
    Napi::Array a = info[0].As<Napi::Array>();
    std::vector<uint32_t> tgids;
    for (uint32_t i = 0; i < a.Length(); i++) tgids.push_back(a.Get(i).ToNumber().Uint32Value());
    try {
      loader_->AddOwnTgids(tgids);
    } catch (const soc::LoadError& e) {
      throw MakeError(env, e.what(), e.err());
    }
    return env.Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (loader_->loaded()) {
      try {
        kernelDrops_ = loader_->SumPerCpuCounters("drops", SOC_OP_MAX);
        kernelErrors_ = loader_->SumPerCpuCounters("errors", 8);
      } catch (const soc::LoadError& e) {
        throw MakeError(env, e.what(), e.err());
      }
    }
    auto big = [&](uint64_t v) { return Napi::BigInt::New(env, v); };
    Napi::Object s = Napi::Object::New(env);
    Napi::Array drops = Napi::Array::New(env, kernelDrops_.size());
    for (size_t i = 0; i < kernelDrops_.size(); i++) drops.Set(static_cast<uint32_t>(i), big(kernelDrops_[i]));
    Napi::Array errors = Napi::Array::New(env, kernelErrors_.size());
    for (size_t i = 0; i < kernelErrors_.size(); i++) errors.Set(static_cast<uint32_t>(i), big(kernelErrors_[i]));
    s.Set("kernelDropsByOp", drops);
    s.Set("kernelErrors", errors);
    s.Set("recordsRead", big(recordsRead_.load()));
    s.Set("bytesRead", big(bytesRead_.load()));
    s.Set("malformedRecords", big(malformed_.load()));
    s.Set("recordsDelivered", big(recordsDelivered_.load()));
    s.Set("bytesDelivered", big(bytesDelivered_.load()));
    s.Set("batchesDelivered", big(batchesDelivered_.load()));
    s.Set("userDroppedBatches", big(userDroppedBatches_.load()));
    s.Set("userDroppedRecords", big(userDroppedRecords_.load()));
    s.Set("userDroppedBytes", big(userDroppedBytes_.load()));
    s.Set("queuedBatches", Napi::Number::New(env, static_cast<double>(inflight_.load())));
    s.Set("pollErrors", big(pollErrors_.load()));
    s.Set("running", Napi::Boolean::New(env, running_));
    return s;
  }

  // Detaches every program, delivers what is still in the ring buffer, then resolves.
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto deferred = Napi::Promise::Deferred::New(env);
    stopped_ = true;
    if (!running_) {
      CloseResources();
      deferred.Resolve(env.Undefined());
      return deferred.Promise();
    }
    // A second stop() while the first is in progress waits for the same completion. (A promise
    // value cannot be handed out again from a later call: napi_values are call-scoped.)
    stopWaiters_.push_back(deferred);
    if (!stopRequested_) {
      loader_->Detach();  // no new records from here on; the maps stay open for the last drain
      stopRequested_ = true;
    }
    return deferred.Promise();
  }

  // --- worker thread -------------------------------------------------------------------------

  void Run() {
    while (!stopRequested_) {
      int timeout = static_cast<int>(pollMs_);
      if (batchLen_) {
        auto age = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - batchStart_).count();
        timeout = static_cast<int>(std::clamp<int64_t>(static_cast<int64_t>(batchMs_) - age, 0, timeout));
      }
      int n = ring_buffer__poll(rb_, timeout);
      if (n < 0 && n != -EINTR) pollErrors_.fetch_add(1);
      // The programs submit without waking us (BPF_RB_NO_WAKEUP) until a backlog builds up:
      // consume after every poll so records never wait longer than one poll interval.
      ring_buffer__consume(rb_);
      if (batchLen_ && Clock::now() - batchStart_ >= std::chrono::milliseconds(batchMs_)) FlushBatch();
      ServeFlushRequests();
    }
    ring_buffer__consume(rb_);
    FlushBatch();
    ServeFlushRequests();
    tsfn_.Release();
  }

  static int OnSample(void* ctx, void* data, size_t size) {
    static_cast<Sensor*>(ctx)->Append(static_cast<const uint8_t*>(data), size);
    return 0;
  }

  void Append(const uint8_t* data, size_t size) {
    const auto* hdr = reinterpret_cast<const soc_event_header*>(data);
    if (size < sizeof(soc_event_header) || hdr->size != size || size > batchBytes_) {
      malformed_.fetch_add(1);
      return;
    }
    recordsRead_.fetch_add(1, std::memory_order_relaxed);
    bytesRead_.fetch_add(size, std::memory_order_relaxed);
    if (batchLen_ + size > batchBytes_) FlushBatch();
    if (!batch_) {
      batch_ = static_cast<uint8_t*>(malloc(batchBytes_));
      if (!batch_) {
        userDroppedRecords_.fetch_add(1);
        userDroppedBytes_.fetch_add(size);
        return;
      }
      batchStart_ = Clock::now();
    }
    memcpy(batch_ + batchLen_, data, size);
    batchLen_ += size;
    batchRecords_++;
  }

  void FlushBatch() {
    if (!batchLen_) return;
    if (inflight_.load() >= maxQueued_) {
      // JavaScript is behind: drop this batch whole (and count it), keep the buffer for reuse.
      userDroppedBatches_.fetch_add(1);
      userDroppedRecords_.fetch_add(batchRecords_);
      userDroppedBytes_.fetch_add(batchLen_);
      batchLen_ = 0;
      batchRecords_ = 0;
      batchStart_ = Clock::now();
      return;
    }
    auto* d = new Delivery{batch_, batchLen_, batchRecords_, 0};
    inflight_.fetch_add(1);
    if (tsfn_.NonBlockingCall(d) != napi_ok) {
      inflight_.fetch_sub(1);
      userDroppedBatches_.fetch_add(1);
      userDroppedRecords_.fetch_add(batchRecords_);
      userDroppedBytes_.fetch_add(batchLen_);
      free(d->data);
      delete d;
    }
    batch_ = nullptr;
    batchLen_ = 0;
    batchRecords_ = 0;
  }

  void ServeFlushRequests() {
    std::vector<uint64_t> ids;
    {
      std::lock_guard<std::mutex> lock(flushMutex_);
      ids.swap(flushRequests_);
    }
    if (ids.empty()) return;
    ring_buffer__consume(rb_);
    FlushBatch();
    for (uint64_t id : ids) {
      auto* d = new Delivery{nullptr, 0, 0, id};
      if (tsfn_.NonBlockingCall(d) != napi_ok) delete d;  // resolved by OnWorkerDone instead
    }
  }

  // --- JavaScript thread helpers ----------------------------------------------------------

  void ResolveFlush(uint64_t id) {
    auto it = flushes_.find(id);
    if (it == flushes_.end()) return;
    it->second.Resolve(it->second.Env().Undefined());
    flushes_.erase(it);
  }

  // Stops the worker without going through JavaScript (environment teardown, destructor).
  void ShutdownWorker() {
    stopRequested_ = true;
    if (worker_.joinable()) worker_.join();
  }

  void CloseResources() {
    if (rb_) {
      ring_buffer__free(rb_);
      rb_ = nullptr;
    }
    if (loader_->loaded()) {
      try {  // keep the final counters readable after close
        kernelDrops_ = loader_->SumPerCpuCounters("drops", SOC_OP_MAX);
        kernelErrors_ = loader_->SumPerCpuCounters("errors", 8);
      } catch (...) {
      }
    }
    loader_->Close();
  }

  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<Sensor*>(arg);
    self->ShutdownWorker();
    self->CloseResources();
  }

  napi_env env_ = nullptr;
  std::unique_ptr<soc::Loader> loader_;
  ring_buffer* rb_ = nullptr;
  Tsfn tsfn_;
  std::thread worker_;
  std::atomic<bool> stopRequested_{false};
  bool running_ = false;
  bool stopped_ = false;
  uint64_t batchBytes_, batchMs_, pollMs_, maxQueued_;

  // Worker-thread state.
  uint8_t* batch_ = nullptr;
  size_t batchLen_ = 0;
  uint32_t batchRecords_ = 0;
  Clock::time_point batchStart_;

  std::mutex flushMutex_;
  std::vector<uint64_t> flushRequests_;

  // JavaScript-thread state.
  std::map<uint64_t, Napi::Promise::Deferred> flushes_;
  uint64_t nextFlushId_ = 1;
  std::vector<Napi::Promise::Deferred> stopWaiters_;
  std::vector<uint64_t> kernelDrops_ = std::vector<uint64_t>(SOC_OP_MAX, 0);
  std::vector<uint64_t> kernelErrors_ = std::vector<uint64_t>(8, 0);

  // Counters (read from JavaScript while the worker writes).
  std::atomic<uint64_t> inflight_{0};
  std::atomic<uint64_t> recordsRead_{0}, bytesRead_{0}, malformed_{0};
  std::atomic<uint64_t> recordsDelivered_{0}, bytesDelivered_{0}, batchesDelivered_{0};
  std::atomic<uint64_t> userDroppedBatches_{0}, userDroppedRecords_{0}, userDroppedBytes_{0};
  std::atomic<uint64_t> pollErrors_{0};
};

void CallJs(Napi::Env env, Napi::Function onBatch, Sensor* sensor, Delivery* d) {
  sensor->Deliver(env, onBatch, d);
}

// CLOCK_REALTIME - CLOCK_BOOTTIME in ns: added to BPF boot-time stamps to get wall-clock time.
// Measured once at start (a later wall-clock step is not applied retroactively). Of a few
// samples, the one with the tightest realtime bracket around the boottime read wins.
Napi::Value ClockOffsetNs(const Napi::CallbackInfo& info) {
  auto ns = [](clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
  };
  int64_t best = 0, bestWidth = INT64_MAX;
  for (int i = 0; i < 7; i++) {
    int64_t r1 = ns(CLOCK_REALTIME);
    int64_t b = ns(CLOCK_BOOTTIME);
    int64_t r2 = ns(CLOCK_REALTIME);
    if (r2 - r1 < bestWidth) {
      bestWidth = r2 - r1;
      best = r1 + (r2 - r1) / 2 - b;
    }
  }
  return Napi::BigInt::New(info.Env(), best);
}

Napi::Value BootTimeNs(const Napi::CallbackInfo& info) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec)));
}

Napi::Value LibbpfVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), std::to_string(LIBBPF_MAJOR_VERSION) + "." +
                                           std::to_string(LIBBPF_MINOR_VERSION));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  soc::InstallLibbpfLogCapture();
  exports.Set("Sensor", Sensor::Init(env));
  exports.Set("clockOffsetNs", Napi::Function::New(env, ClockOffsetNs));
  exports.Set("bootTimeNs", Napi::Function::New(env, BootTimeNs));
  exports.Set("libbpfVersion", Napi::Function::New(env, LibbpfVersion));
  exports.Set("opMax", Napi::Number::New(env, SOC_OP_MAX));
  return exports;
}

}  // namespace

NODE_API_MODULE(soc_sensor, Init)
