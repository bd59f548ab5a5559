// A persistent (immutable, structure-sharing) hash map: a hash array mapped trie with 16-way
// branching. Copying a map is one shared_ptr copy; set() and erase() copy only the nodes on the
// path to the changed entry (at most one node per level, each at most 16 slots) and share
// everything else with the map they started from.
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
    for (unsigned depth = 0; n != nullptr; ++depth) {
      if (depth >= kMaxDepth) {  // hash bits used up: a short list of full collisions
        for (const auto& e : n->entries)
          if (e.hash == h && e.key == key) return &e.value;
        return nullptr;
      }
      const std::uint32_t bit = bit_at(h, depth);
      if (n->datamap & bit) {
        const Entry& e = n->entries[slot(n->datamap, bit)];
        return e.hash == h && e.key == key ? &e.value : nullptr;
      }
      if (!(n->nodemap & bit)) return nullptr;
      n = n->children[slot(n->nodemap, bit)].get();
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
  // 16 slots per node: a path copy costs (slots per node) x (levels), and 16 keeps that lower
  // and flatter in n than 32 (tests/scale/ measures it) for one more level of lookup.
  static constexpr unsigned kBits = 4;
  static constexpr std::uint64_t kMask = (1u << kBits) - 1;
  // Past this depth the hash bits are used up (16 * 4 = 64): a node there is a plain list, which
  // only full 64-bit hash collisions reach.
  static constexpr unsigned kMaxDepth = 16;

  struct Entry {
    std::uint64_t hash;
    K key;
    V value;
  };
  struct Node;
  using NodePtr = std::shared_ptr<const Node>;
  // Compact layout (as in CHAMP, Steindorfer and Vinju, OOPSLA 2015): a slot holds either one
  // entry, inline in its node, or a child node for the keys that share it. A key alone in its
  // slot costs its entry and nothing more; with separate leaf nodes (up to 8 entries each, as
  // before) a 16-way split left most leaves holding one entry, a node and a vector of its own
  // each: ~2x the entry's bytes (docs/performance.md, "Scale: memory per road warrior").
  struct Node {
    std::uint32_t datamap = 0;      // slots holding an entry
    std::uint32_t nodemap = 0;      // slots holding a child
    std::vector<Entry> entries;     // one per datamap bit, in bit order (below kMaxDepth)
    std::vector<NodePtr> children;  // one per nodemap bit, in bit order
  };

  static std::size_t slot(std::uint32_t bitmap, std::uint32_t bit) {
    return static_cast<std::size_t>(std::popcount(bitmap & (bit - 1)));
  }
  static std::uint32_t bit_at(std::uint64_t hash, unsigned depth) {
    return 1u << ((hash >> (depth * kBits)) & kMask);
  }
  static std::ptrdiff_t pos(std::size_t at) { return static_cast<std::ptrdiff_t>(at); }

  // A copy of n with room for `more_entries` and `more_children` beyond its own. Nodes are
  // immutable once built, so the slack a vector's growth leaves (up to as much again) would be
  // held for the node's life: the copies are sized exactly.
  static std::shared_ptr<Node> copy_of(const Node& n, std::size_t more_entries, std::size_t more_children) {
    auto copy = std::make_shared<Node>();
    copy->datamap = n.datamap;
    copy->nodemap = n.nodemap;
    copy->entries.reserve(n.entries.size() + more_entries);
    copy->entries = n.entries;
    copy->children.reserve(n.children.size() + more_children);
    copy->children = n.children;
    return copy;
  }

  // A node (at depth) holding the two entries x and y, whose keys differ.
  static NodePtr pair_of(Entry x, Entry y, unsigned depth) {
    auto n = std::make_shared<Node>();
    if (depth >= kMaxDepth) {
      n->entries.reserve(2);
      n->entries.push_back(std::move(x));
      n->entries.push_back(std::move(y));
      return n;
    }
    const std::uint32_t bx = bit_at(x.hash, depth), by = bit_at(y.hash, depth);
    if (bx == by) {
      n->nodemap = bx;
      n->children.push_back(pair_of(std::move(x), std::move(y), depth + 1));
      return n;
    }
    n->datamap = bx | by;
    n->entries.reserve(2);
    if (bx < by) {
      n->entries.push_back(std::move(x));
      n->entries.push_back(std::move(y));
    } else {
      n->entries.push_back(std::move(y));
      n->entries.push_back(std::move(x));
    }
    return n;
  }

  // The node that replaces n (null: an empty map) once e is in it.
  static NodePtr insert(const Node* n, unsigned depth, Entry e, bool& added) {
    if (depth >= kMaxDepth) {
      if (n != nullptr)
        for (std::size_t i = 0; i < n->entries.size(); ++i)
          if (n->entries[i].hash == e.hash && n->entries[i].key == e.key) {
            auto copy = copy_of(*n, 0, 0);
            copy->entries[i].value = std::move(e.value);
            return copy;
          }
      added = true;
      auto copy = n != nullptr ? copy_of(*n, 1, 0) : std::make_shared<Node>();
      copy->entries.push_back(std::move(e));
      return copy;
    }
    if (n == nullptr) {
      auto node = std::make_shared<Node>();
      node->datamap = bit_at(e.hash, depth);
      node->entries.reserve(1);
      node->entries.push_back(std::move(e));
      added = true;
      return node;
    }
    const std::uint32_t bit = bit_at(e.hash, depth);
    if (n->datamap & bit) {
      const std::size_t at = slot(n->datamap, bit);
      const Entry& here = n->entries[at];
      if (here.hash == e.hash && here.key == e.key) {
        auto copy = copy_of(*n, 0, 0);
        copy->entries[at].value = std::move(e.value);
        return copy;
      }
      // Two keys share the slot: both move into a child one level down.
      added = true;
      auto copy = copy_of(*n, 0, 1);
      NodePtr child = pair_of(copy->entries[at], std::move(e), depth + 1);
      copy->entries.erase(copy->entries.begin() + pos(at));
      copy->entries.shrink_to_fit();
      copy->datamap &= ~bit;
      copy->nodemap |= bit;
      copy->children.insert(copy->children.begin() + pos(slot(copy->nodemap, bit)), std::move(child));
      return copy;
    }
    if (n->nodemap & bit) {
      const std::size_t at = slot(n->nodemap, bit);
      auto copy = copy_of(*n, 0, 0);
      copy->children[at] = insert(n->children[at].get(), depth + 1, std::move(e), added);
      return copy;
    }
    added = true;
    auto copy = copy_of(*n, 1, 0);
    copy->datamap |= bit;
    copy->entries.insert(copy->entries.begin() + pos(slot(copy->datamap, bit)), std::move(e));
    return copy;
  }

  // The node that replaces n without the key (null when nothing is left); n itself when the key
  // is not there. A child left with one entry and no children of its own is folded back into its
  // parent's slot, so the layout stays the one inserting the remaining keys would give.
  static NodePtr remove(const NodePtr& n, unsigned depth, std::uint64_t hash, const K& key, bool& removed) {
    if (!n) return n;
    if (depth >= kMaxDepth) {
      for (std::size_t i = 0; i < n->entries.size(); ++i) {
        if (n->entries[i].hash != hash || !(n->entries[i].key == key)) continue;
        removed = true;
        if (n->entries.size() == 1) return nullptr;
        auto copy = copy_of(*n, 0, 0);
        copy->entries.erase(copy->entries.begin() + pos(i));
        copy->entries.shrink_to_fit();
        return copy;
      }
      return n;
    }
    const std::uint32_t bit = bit_at(hash, depth);
    if (n->datamap & bit) {
      const std::size_t at = slot(n->datamap, bit);
      if (n->entries[at].hash != hash || !(n->entries[at].key == key)) return n;
      removed = true;
      if (n->entries.size() == 1 && n->children.empty()) return nullptr;
      auto copy = copy_of(*n, 0, 0);
      copy->entries.erase(copy->entries.begin() + pos(at));
      copy->entries.shrink_to_fit();
      copy->datamap &= ~bit;
      return copy;
    }
    if (!(n->nodemap & bit)) return n;
    const std::size_t at = slot(n->nodemap, bit);
    NodePtr child = remove(n->children[at], depth + 1, hash, key, removed);
    if (!removed) return n;
    const bool single = child && child->children.empty() && child->entries.size() == 1;
    if (!child || single) {
      if (!child && n->children.size() == 1 && n->entries.empty()) return nullptr;  // empty now
      auto copy = copy_of(*n, single ? 1 : 0, 0);
      copy->children.erase(copy->children.begin() + pos(at));
      copy->children.shrink_to_fit();
      copy->nodemap &= ~bit;
      if (single) {
        copy->datamap |= bit;
        copy->entries.insert(copy->entries.begin() + pos(slot(copy->datamap, bit)), child->entries.front());
      }
      return copy;
    }
    auto copy = copy_of(*n, 0, 0);
    copy->children[at] = std::move(child);
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
