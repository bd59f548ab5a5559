#include "common/secret_allocator.h"

#include <openssl/crypto.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <mutex>

#if defined(__SANITIZE_ADDRESS__)
#define NATGATE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NATGATE_ASAN 1
#endif
#endif
#ifdef NATGATE_ASAN
#include <sanitizer/asan_interface.h>
#define NATGATE_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define NATGATE_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define NATGATE_POISON(p, n) ((void)(p), (void)(n))
#define NATGATE_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace natgate::secret_memory {

namespace {

constexpr std::size_t kMinSlot = 32;
constexpr std::size_t kMaxSlot = 4096;
constexpr std::size_t kClasses = 8;  // 32, 64, ..., 4096
constexpr std::size_t kArenaBytes = std::size_t{64} * 1024;

std::size_t page_size() {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// Fresh pages, excluded from core dumps (madvise(2) MADV_DONTDUMP, Linux 3.4).
void* map_pages(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  (void)::madvise(p, bytes, MADV_DONTDUMP);
  return p;
}

std::size_t class_of(std::size_t bytes) {
  std::size_t c = 0;
  for (std::size_t slot = kMinSlot; slot < bytes; slot <<= 1) ++c;
  return c;
}

struct FreeSlot {
  FreeSlot* next;
};

struct Pool {
  std::mutex mutex;
  std::array<FreeSlot*, kClasses> free{};

  void refill(std::size_t c) {
    const std::size_t slot = kMinSlot << c;
    auto* base = static_cast<std::uint8_t*>(map_pages(kArenaBytes));
    for (std::size_t off = kArenaBytes; off >= slot; off -= slot) {
      auto* s = reinterpret_cast<FreeSlot*>(base + off - slot);
      s->next = free[c];
      free[c] = s;
    }
    NATGATE_POISON(base, kArenaBytes);
  }
};

// Holds a Pool that is never destroyed: secrets may be freed during static destruction, after a
// plain function-local static would be gone.
union NeverDestroyedPool {
  Pool pool;
  NeverDestroyedPool() : pool() {}
  ~NeverDestroyedPool() {}  // NOLINT(modernize-use-equals-default): must not destroy `pool`
};

Pool& pool() {
  static NeverDestroyedPool holder;
  return holder.pool;
}

}  // namespace

void* allocate(std::size_t bytes) {
  if (bytes == 0) bytes = 1;
  if (bytes > kMaxSlot) return map_pages(round_up(bytes, page_size()));
  const std::size_t c = class_of(bytes);
  Pool& p = pool();
  std::lock_guard lock(p.mutex);
  if (p.free[c] == nullptr) p.refill(c);
  FreeSlot* s = p.free[c];
  NATGATE_UNPOISON(s, sizeof(FreeSlot));
  p.free[c] = s->next;
  NATGATE_UNPOISON(s, bytes);
  return s;
}

void deallocate(void* ptr, std::size_t bytes) noexcept {
  if (ptr == nullptr) return;
  if (bytes == 0) bytes = 1;
  OPENSSL_cleanse(ptr, bytes);
  if (bytes > kMaxSlot) {
    ::munmap(ptr, round_up(bytes, page_size()));
    return;
  }
  const std::size_t c = class_of(bytes);
  Pool& p = pool();
  std::lock_guard lock(p.mutex);
  NATGATE_UNPOISON(ptr, sizeof(FreeSlot));
  auto* s = static_cast<FreeSlot*>(ptr);
  s->next = p.free[c];
  p.free[c] = s;
  NATGATE_POISON(ptr, kMinSlot << c);
}

}  // namespace natgate::secret_memory
