// An IKE message: header plus payloads in wire order, and lookups that keep callers short.
#pragma once

#include <vector>

#include "ike/codec/ike_header.h"
#include "ike/codec/payloads.h"

namespace natgate::ike {

struct Message {
  IkeHeader header;
  std::vector<Payload> payloads;

  friend bool operator==(const Message&, const Message&) = default;
};

// First payload of type T, or nullptr. Pointers stay valid while the vector is unchanged.
template <typename T>
const T* find(const std::vector<Payload>& payloads) {
  for (const auto& p : payloads)
    if (const T* t = std::get_if<T>(&p)) return t;
  return nullptr;
}
template <typename T>
const T* find(const Message& m) {
  return find<T>(m.payloads);
}

// Every payload of type T, in wire order.
template <typename T>
std::vector<const T*> find_all(const std::vector<Payload>& payloads) {
  std::vector<const T*> out;
  for (const auto& p : payloads)
    if (const T* t = std::get_if<T>(&p)) out.push_back(t);
  return out;
}
template <typename T>
std::vector<const T*> find_all(const Message& m) {
  return find_all<T>(m.payloads);
}

// First Notify of the given type, or nullptr.
inline const Notify* find_notify(const std::vector<Payload>& payloads, iana::NotifyType type) {
  for (const auto& p : payloads)
    if (const auto* n = std::get_if<Notify>(&p); n && n->type == type) return n;
  return nullptr;
}
inline const Notify* find_notify(const Message& m, iana::NotifyType type) {
  return find_notify(m.payloads, type);
}

}  // namespace natgate::ike
