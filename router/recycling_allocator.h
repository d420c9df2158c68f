#pragma once
// An allocator that keeps, per thread, a few freed blocks of one size for the next allocation
// of that size; any other size goes to the heap. The size is `Bytes`, or with Bytes 0 one
// object of the type it is rebound to (std::allocate_shared: the object with its count).
// For what every request takes and gives back, where malloc cost an allocation of some 300
// to 700 instructions and a free of some 300 (blocks over its per-thread cache's 1 KiB;
// callgrind, bench/README.md):
// - the client connection's 16 KiB read buffer (proxy_session.h): a keep-alive connection
//   frees it whenever it goes idle, so that an idle connection holds none (bench scenario
//   16), and takes one again for its next request;
// - the relay of each request (some 2 KiB).
//
// A block freed on another thread than the one that took it is simply kept there. At most
// kKept blocks a thread and size, so that what is kept stays bounded.

#include <array>
#include <cstddef>
#include <memory>

namespace duet::router {

template <class T, std::size_t Bytes = 0>
class RecyclingAllocator {
 public:
  using value_type = T;
  template <class U>
  struct rebind {
    using other = RecyclingAllocator<U, Bytes>;
  };
  static constexpr std::size_t kKept = 64;
  static constexpr std::size_t kBytes = Bytes ? Bytes : sizeof(T);

  RecyclingAllocator() = default;
  template <class U>
  RecyclingAllocator(const RecyclingAllocator<U, Bytes>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n * sizeof(T) == kBytes)
      if (void* block = kept().take()) return static_cast<T*>(block);
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, std::size_t n) {
    if (n * sizeof(T) == kBytes && kept().keep(p)) return;
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
      while (count) std::allocator<T>{}.deallocate(blocks[--count], kBytes / sizeof(T));
    }
  };
  static Kept& kept() {
    thread_local Kept blocks;
    return blocks;
  }
};

}  // namespace duet::router
