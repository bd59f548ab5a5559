// A persistent (immutable, structure-sharing) hash map: a hash array mapped trie with 16-way
// branching. Copying a map is one shared_ptr copy; set() and erase() copy only the nodes on the
// path to the changed entry (at most one node per level, each at most 16 child pointers or
// kLeafMax entries) and share everything else with the map they started from.
//
// Why: the SA table publishes a new immutable snapshot on every install (sa_table.h). With this
// map a snapshot costs O(depth) node copies instead of a copy of every SA, and the depth is
// bounded by the hash width: log16 of the entry count (4-5 levels for 100,000 entries), never
// more than kMaxDepth. Lookups walk the same path: a few dependent loads, no lock, no allocation.
//
// Nodes are immutable once built and owned by shared_ptr, so a reader holding any map (or a
// snapshot containing one) keeps every node it can reach alive; a node is freed by whoever drops
// the last map referring to it (the RCU-like contract of sa_table.h).
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace natgate::esp {

// Spreads a 64-bit key over all bits (the splitmix64 finaliser): SPIs and addresses that differ
// in their low bits land in different branches from the first level on.
inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

// Hash is a callable K -> std::uint64_t with well-spread bits (e.g. built on mix64).
template <class K, class V, class Hash>
class PersistentMap {
 public:
  const V* find(const K& key) const {
    const std::uint64_t h = Hash{}(key);
    const Node* n = root_.get();
    for (unsigned shift = 0; n != nullptr; shift += kBits) {
      if (n->leaf) {
        for (const auto& e : n->entries)
          if (e.hash == h && e.key == key) return &e.value;
        return nullptr;
      }
      const std::uint32_t bit = 1u << ((h >> shift) & kMask);
      if (!(n->bitmap & bit)) return nullptr;
      n = n->children[slot(n->bitmap, bit)].get();
    }
    return nullptr;
  }

  // Inserts or replaces; true if the key was new.
  bool set(const K& key, V value) {
    bool added = false;
    root_ = insert(root_.get(), 0, Entry{Hash{}(key), key, std::move(value)}, added);
    if (added) ++size_;
    return added;
  }

  // True if the key was there.
  bool erase(const K& key) {
    bool removed = false;
    NodePtr r = remove(root_, 0, Hash{}(key), key, removed);
    if (!removed) return false;
    root_ = std::move(r);
    --size_;
    return true;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // f(const K&, const V&) for every entry, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    visit(root_.get(), f);
  }

 private:
  // 16 children per branch: a path copy costs (children per branch) x (levels), and 16 keeps
  // that lower and flatter in n than 32 (tests/scale/ measures it) for one more level of lookup.
  static constexpr unsigned kBits = 4;
  static constexpr std::uint64_t kMask = (1u << kBits) - 1;
  // Past this depth the hash bits are used up (16 * 4 = 64): leaves grow instead of splitting,
  // which only full 64-bit hash collisions reach.
  static constexpr unsigned kMaxDepth = 16;
  // Entries in one leaf before it splits: small enough that a leaf copy is cheap, large enough
  // that sparse maps are one or two levels deep.
  static constexpr std::size_t kLeafMax = 8;

  struct Entry {
    std::uint64_t hash;
    K key;
    V value;
  };
  struct Node;
  using NodePtr = std::shared_ptr<const Node>;
  struct Node {
    bool leaf = true;
    std::uint32_t bitmap = 0;       // branch: which of the 16 slots hold a child
    std::vector<NodePtr> children;  // branch: one per set bit, in bit order
    std::vector<Entry> entries;     // leaf
  };

  static std::size_t slot(std::uint32_t bitmap, std::uint32_t bit) {
    return static_cast<std::size_t>(std::popcount(bitmap & (bit - 1)));
  }
  static std::uint32_t bit_at(std::uint64_t hash, unsigned depth) {
    return 1u << ((hash >> (depth * kBits)) & kMask);
  }

  // The node that replaces n (null: an empty map) once e is in it.
  static NodePtr insert(const Node* n, unsigned depth, Entry e, bool& added) {
    if (n == nullptr) {
      auto leaf = std::make_shared<Node>();
      leaf->entries.push_back(std::move(e));
      added = true;
      return leaf;
    }
    if (n->leaf) {
      for (std::size_t i = 0; i < n->entries.size(); ++i)
        if (n->entries[i].hash == e.hash && n->entries[i].key == e.key) {
          auto copy = std::make_shared<Node>(*n);
          copy->entries[i].value = std::move(e.value);
          return copy;
        }
      added = true;
      auto copy = with_room(*n);
      copy->entries.push_back(std::move(e));
      if (copy->entries.size() <= kLeafMax || depth >= kMaxDepth) return copy;
      // Too full: becomes a branch and its entries move one level down.
      NodePtr branch = std::make_shared<Node>(Node{false, 0, {}, {}});
      for (auto& x : copy->entries) {
        bool ignored = false;
        branch = insert(branch.get(), depth, std::move(x), ignored);
      }
      return branch;
    }
    const std::uint32_t bit = bit_at(e.hash, depth);
    const std::size_t at = slot(n->bitmap, bit);
    if (n->bitmap & bit) {
      auto copy = std::make_shared<Node>(*n);
      copy->children[at] = insert(n->children[at].get(), depth + 1, std::move(e), added);
      return copy;
    }
    {
      auto copy = with_room(*n);
      copy->children.insert(copy->children.begin() + static_cast<std::ptrdiff_t>(at),
                            insert(nullptr, depth + 1, std::move(e), added));
      copy->bitmap |= bit;
      return copy;
    }
  }

  // A copy of n with room for exactly one more entry or child. A node is immutable once built,
  // so the slack a vector's growth leaves (up to as much again) would be held for the node's
  // life; the copy constructor alone gives exact capacity, and a push_back onto it doubles.
  static std::shared_ptr<Node> with_room(const Node& n) {
    auto copy = std::make_shared<Node>();
    copy->leaf = n.leaf;
    copy->bitmap = n.bitmap;
    copy->children.reserve(n.children.size() + (n.leaf ? 0 : 1));
    copy->children = n.children;
    copy->entries.reserve(n.entries.size() + (n.leaf ? 1 : 0));
    copy->entries = n.entries;
    return copy;
  }

  // The node that replaces n without the key (null when nothing is left); n itself when the key
  // is not there.
  static NodePtr remove(const NodePtr& n, unsigned depth, std::uint64_t hash, const K& key, bool& removed) {
    if (!n) return n;
    if (n->leaf) {
      for (std::size_t i = 0; i < n->entries.size(); ++i) {
        if (n->entries[i].hash != hash || !(n->entries[i].key == key)) continue;
        removed = true;
        if (n->entries.size() == 1) return nullptr;
        auto copy = std::make_shared<Node>(*n);
        copy->entries.erase(copy->entries.begin() + static_cast<std::ptrdiff_t>(i));
        return copy;
      }
      return n;
    }
    const std::uint32_t bit = bit_at(hash, depth);
    if (!(n->bitmap & bit)) return n;
    const std::size_t at = slot(n->bitmap, bit);
    NodePtr child = remove(n->children[at], depth + 1, hash, key, removed);
    if (!removed) return n;
    if (!child && n->children.size() == 1) return nullptr;  // the branch is empty now
    auto copy = std::make_shared<Node>(*n);
    if (child) {
      copy->children[at] = std::move(child);
    } else {
      copy->children.erase(copy->children.begin() + static_cast<std::ptrdiff_t>(at));
      copy->bitmap &= ~bit;
    }
    return copy;
  }

  template <class F>
  static void visit(const Node* n, F& f) {
    if (n == nullptr) return;
    for (const auto& e : n->entries) f(e.key, e.value);
    for (const auto& c : n->children) visit(c.get(), f);
  }

  NodePtr root_;
  std::size_t size_ = 0;
};

}  // namespace natgate::esp
