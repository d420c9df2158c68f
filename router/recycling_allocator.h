#pragma once
// An allocator that keeps, per thread, a few freed blocks of one size (`Bytes`) for the next
// allocation of that size; any other size goes to the heap. For the client connection's read
// buffer (proxy_session.h): a keep-alive connection frees its 16 KiB buffer whenever it goes
// idle, so that an idle connection holds none (bench scenario 16), and takes one again for
// its next request. From malloc that was an allocation of some 700 instructions and a free
// of some 300 on every request (callgrind, bench/README.md); from here, a few.
//
// A block freed on another thread than the one that took it is simply kept there. At most
// kKept blocks a thread: what the connections between two requests hold at once, so that
// idle memory stays bounded.

#include <array>
#include <cstddef>
#include <memory>

namespace duet::router {

template <class T, std::size_t Bytes>
class RecyclingAllocator {
 public:
  using value_type = T;
  template <class U>
  struct rebind {
    using other = RecyclingAllocator<U, Bytes>;
  };
  static constexpr std::size_t kKept = 32;

  RecyclingAllocator() = default;
  template <class U>
  RecyclingAllocator(const RecyclingAllocator<U, Bytes>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n * sizeof(T) == Bytes)
      if (void* block = kept().take()) return static_cast<T*>(block);
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, std::size_t n) {
    if (n * sizeof(T) == Bytes && kept().keep(p)) return;
    std::allocator<T>{}.deallocate(p, n);
  }

  template <class U>
  bool operator==(const RecyclingAllocator<U, Bytes>&) const noexcept {
    return true;  // stateless: any instance frees what another took
  }

 private:
  struct Kept {
    std::array<T*, kKept> blocks{};
    std::size_t count = 0;
    T* take() { return count ? blocks[--count] : nullptr; }
    bool keep(T* p) {
      if (count == kKept) return false;
      blocks[count++] = p;
      return true;
    }
    ~Kept() {
      while (count) std::allocator<T>{}.deallocate(blocks[--count], Bytes / sizeof(T));
    }
  };
  static Kept& kept() {
    thread_local Kept blocks;
    return blocks;
  }
};

}  // namespace duet::router
