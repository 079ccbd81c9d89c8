// Every block pam_otp's code frees is wiped first: the replaceable global
// allocation functions. In pam_otp.so its version script keeps every symbol
// but pam_sm_* local, so these are the module's own: its code, the
// header-only toml++ and the std::string code instantiated in it bind to
// them, and the host program's allocations are untouched (in pam-otp and
// the tests they serve the program).
// Each one forwards to the allocation function the rest of the process
// uses (libstdc++'s, or a sanitizer's or valgrind's), so that a block may
// be allocated on one side and freed on the other, as a std::string that
// jsoncpp returns is. Secrets then leave no copy behind in freed memory
// wherever a C++ container of ours held one: a string that grew, toml++'s
// parser buffers, a value copied on the way. jsoncpp and C libraries keep
// their own copies; they are wiped where they are reachable (json::wipe),
// and SECURITY.md names the others. docs/design.md, "Secrets in memory".
#include <dlfcn.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "base/secret.h"

namespace {

// The process's allocation functions (never these: they are local).
struct Process {
  void* (*new_)(std::size_t) = nullptr;
  void* (*new_array)(std::size_t) = nullptr;
  void* (*new_aligned)(std::size_t, std::align_val_t) = nullptr;
  void* (*new_array_aligned)(std::size_t, std::align_val_t) = nullptr;
  void (*delete_)(void*) = nullptr;
  void (*delete_array)(void*) = nullptr;
  void (*delete_aligned)(void*, std::align_val_t) = nullptr;
  void (*delete_array_aligned)(void*, std::align_val_t) = nullptr;
  bool complete = false;
  // The process's operator new is libstdc++'s, over malloc: the size of a
  // block freed without one can be asked of malloc.
  bool malloc_sized = false;
};

// The process's definition of `name`, never `ours` (where a program exports
// its own, the process's is the next one).
template <typename Fn>
void find(Fn& fn, const char* name, Fn ours) {
  fn = reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, name));
  if (fn == ours) fn = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
  if (fn == ours) fn = nullptr;
}

const Process& process() {
  static const Process p = [] {
    Process found;
    find(found.new_, "_Znwm", static_cast<void* (*)(std::size_t)>(&::operator new));
    find(found.new_array, "_Znam", static_cast<void* (*)(std::size_t)>(&::operator new[]));
    find(found.new_aligned, "_ZnwmSt11align_val_t",
         static_cast<void* (*)(std::size_t, std::align_val_t)>(&::operator new));
    find(found.new_array_aligned, "_ZnamSt11align_val_t",
         static_cast<void* (*)(std::size_t, std::align_val_t)>(&::operator new[]));
    find(found.delete_, "_ZdlPv", static_cast<void (*)(void*)>(&::operator delete));
    find(found.delete_array, "_ZdaPv", static_cast<void (*)(void*)>(&::operator delete[]));
    find(found.delete_aligned, "_ZdlPvSt11align_val_t",
         static_cast<void (*)(void*, std::align_val_t)>(&::operator delete));
    find(found.delete_array_aligned, "_ZdaPvSt11align_val_t",
         static_cast<void (*)(void*, std::align_val_t)>(&::operator delete[]));
    found.complete = found.new_ && found.new_array && found.new_aligned && found.new_array_aligned &&
                     found.delete_ && found.delete_array && found.delete_aligned && found.delete_array_aligned;
    Dl_info where{};
    found.malloc_sized = !found.complete || (::dladdr(reinterpret_cast<void*>(found.new_), &where) != 0 &&
                                             where.dli_fname != nullptr &&
                                             std::strstr(where.dli_fname, "libstdc++") != nullptr);
    return found;
  }();
  return p;
}

// Without the process's functions (a static program): malloc and free.
void* fallback_new(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* fallback_new_aligned(std::size_t n, std::align_val_t alignment) {
  void* p = nullptr;
  const auto a = static_cast<std::size_t>(alignment);
  if (::posix_memalign(&p, a < sizeof(void*) ? sizeof(void*) : a, n == 0 ? 1 : n) != 0) throw std::bad_alloc();
  return p;
}

// The whole block when malloc can say how large it is; else the `size`
// bytes the caller says it asked for (0: unknown, nothing wiped: a host
// whose operator new is not malloc's would not survive malloc's answer).
void wipe_block(void* p, std::size_t size) noexcept {
  if (p == nullptr) return;
  if (process().malloc_sized) otp::wipe_bytes(p, malloc_usable_size(p));
  else otp::wipe_bytes(p, size);
}

void release(void* p, std::size_t size, void (*fn)(void*)) noexcept {
  if (p == nullptr) return;
  wipe_block(p, size);
  if (process().complete) fn(p);
  else std::free(p);
}

void release_aligned(void* p, std::size_t size, std::align_val_t a, void (*fn)(void*, std::align_val_t)) noexcept {
  if (p == nullptr) return;
  wipe_block(p, size);
  if (process().complete) fn(p, a);
  else std::free(p);
}

}  // namespace

void* operator new(std::size_t n) { return process().complete ? process().new_(n) : fallback_new(n); }
void* operator new[](std::size_t n) { return process().complete ? process().new_array(n) : fallback_new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  return process().complete ? process().new_aligned(n, a) : fallback_new_aligned(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return process().complete ? process().new_array_aligned(n, a) : fallback_new_aligned(n, a);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return operator new(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return operator new[](n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return operator new(n, a);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return operator new[](n, a);
  } catch (...) {
    return nullptr;
  }
}

void operator delete(void* p) noexcept { release(p, 0, process().delete_); }
void operator delete[](void* p) noexcept { release(p, 0, process().delete_array); }
void operator delete(void* p, std::size_t n) noexcept { release(p, n, process().delete_); }
void operator delete[](void* p, std::size_t n) noexcept { release(p, n, process().delete_array); }
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p, 0, process().delete_); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p, 0, process().delete_array); }
void operator delete(void* p, std::align_val_t a) noexcept { release_aligned(p, 0, a, process().delete_aligned); }
void operator delete[](void* p, std::align_val_t a) noexcept {
  release_aligned(p, 0, a, process().delete_array_aligned);
}
void operator delete(void* p, std::size_t n, std::align_val_t a) noexcept {
  release_aligned(p, n, a, process().delete_aligned);
}
void operator delete[](void* p, std::size_t n, std::align_val_t a) noexcept {
  release_aligned(p, n, a, process().delete_array_aligned);
}
void operator delete(void* p, std::align_val_t a, const std::nothrow_t&) noexcept {
  release_aligned(p, 0, a, process().delete_aligned);
}
void operator delete[](void* p, std::align_val_t a, const std::nothrow_t&) noexcept {
  release_aligned(p, 0, a, process().delete_array_aligned);
}
