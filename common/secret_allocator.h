// Memory for key material that never lands in a core dump: pages from mmap marked
// MADV_DONTDUMP, carved into power-of-two slots (32 B .. 4 KiB) kept on free lists, and whole
// page runs for anything larger. Slots are wiped when freed. Cheap (a mutex and a pointer pop per
// allocation), and bounded by the peak of live secrets: small-slot pages are reused, not returned.
#pragma once

#include <cstddef>
#include <new>

namespace natgate {

namespace secret_memory {
void* allocate(std::size_t bytes);  // throws std::bad_alloc
void deallocate(void* p, std::size_t bytes) noexcept;
}  // namespace secret_memory

template <typename T>
struct SecretAllocator {
  using value_type = T;
  SecretAllocator() noexcept = default;
  template <typename U>
  SecretAllocator(const SecretAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
  T* allocate(std::size_t n) { return static_cast<T*>(secret_memory::allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { secret_memory::deallocate(p, n * sizeof(T)); }
  template <typename U>
  friend bool operator==(const SecretAllocator&, const SecretAllocator<U>&) noexcept {
    return true;
  }
};

}  // namespace natgate
