#include "xfrm/policy_message.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netlink/addr.h>
#include <netlink/xfrm/lifetime.h>
#include <netlink/xfrm/selector.h>
#include <netlink/xfrm/sp.h>
#include <netlink/xfrm/template.h>

#include <memory>

#include "xfrm/xfrm_selector.h"

namespace natgate::xfrm {

namespace {

constexpr std::uint32_t kPriorityBase = 100000;

struct SpPut {
  void operator()(xfrmnl_sp* sp) const { xfrmnl_sp_put(sp); }
};
struct SelPut {
  void operator()(xfrmnl_sel* sel) const { xfrmnl_sel_put(sel); }
};
struct LtimePut {
  void operator()(xfrmnl_ltime_cfg* lt) const { xfrmnl_ltime_cfg_put(lt); }
};
struct AddrPut {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct TmplFree {
  void operator()(xfrmnl_user_tmpl* t) const { xfrmnl_user_tmpl_free(t); }
};
using AddrPtr = std::unique_ptr<nl_addr, AddrPut>;

AddrPtr make_addr(const xfrm_address_t& address, int family) {
  const int len = family == AF_INET ? 4 : 16;
  return AddrPtr(nl_addr_build(family, &address, len));
}

AddrPtr make_addr(const IpAddress& address) {
  xfrm_address_t raw;
  to_xfrm_address(address, raw);
  return make_addr(raw, address_family(address.family()));
}

std::uint8_t kernel_dir(dataplane::Direction d) {
  switch (d) {
    case dataplane::Direction::In:
      return XFRM_POLICY_IN;
    case dataplane::Direction::Out:
      return XFRM_POLICY_OUT;
    case dataplane::Direction::Fwd:
      return XFRM_POLICY_FWD;
  }
  return XFRM_POLICY_OUT;
}

// An xfrmnl_sp carrying the selector and direction: all a delete needs, the start of an add.
Expected<std::unique_ptr<xfrmnl_sp, SpPut>> policy_with_selector(const dataplane::PolicySpec& policy) {
  auto raw = make_selector(policy.src, policy.dst);
  if (!raw)
    return unexpected("policy " + policy.src.to_string() + " -> " + policy.dst.to_string() + ": " +
                      raw.error());

  std::unique_ptr<xfrmnl_sp, SpPut> sp(xfrmnl_sp_alloc());
  std::unique_ptr<xfrmnl_sel, SelPut> sel(xfrmnl_sel_alloc());
  AddrPtr saddr = make_addr(raw->saddr, raw->family);
  AddrPtr daddr = make_addr(raw->daddr, raw->family);
  if (!sp || !sel || !saddr || !daddr) return unexpected(std::string("libnl-xfrm: out of memory"));
  // The setters take their own references; ours are dropped when the unique_ptrs go.
  xfrmnl_sel_set_saddr(sel.get(), saddr.get());
  xfrmnl_sel_set_daddr(sel.get(), daddr.get());
  xfrmnl_sel_set_prefixlen_s(sel.get(), raw->prefixlen_s);
  xfrmnl_sel_set_prefixlen_d(sel.get(), raw->prefixlen_d);
  xfrmnl_sel_set_family(sel.get(), raw->family);
  xfrmnl_sel_set_proto(sel.get(), raw->proto);
  // libnl converts selector ports to network order itself.
  xfrmnl_sel_set_sport(sel.get(), ntohs(raw->sport));
  xfrmnl_sel_set_sportmask(sel.get(), ntohs(raw->sport_mask));
  xfrmnl_sel_set_dport(sel.get(), ntohs(raw->dport));
  xfrmnl_sel_set_dportmask(sel.get(), ntohs(raw->dport_mask));
  xfrmnl_sp_set_sel(sp.get(), sel.get());
  xfrmnl_sp_set_dir(sp.get(), kernel_dir(policy.direction));
  return sp;
}

}  // namespace

std::uint32_t default_policy_priority(const dataplane::PolicySpec& policy) {
  std::uint32_t specificity = 0;
  if (auto s = policy.src.as_subnet()) specificity += s->prefix_len;
  if (auto d = policy.dst.as_subnet()) specificity += d->prefix_len;
  specificity *= 4;
  if (policy.src.ip_protocol != 0 || policy.dst.ip_protocol != 0) specificity += 2;
  const bool ports = policy.src.start_port != 0 || policy.src.end_port != 65535 ||
                     policy.dst.start_port != 0 || policy.dst.end_port != 65535;
  if (ports) specificity += 1;
  return kPriorityBase - specificity;
}

Expected<NetlinkMessage> build_policy_add(const dataplane::PolicySpec& policy, bool replace) {
  if (policy.tunnel_src.address.family() != policy.tunnel_dst.address.family()) {
    return unexpected("policy template " + policy.tunnel_src.to_string() + " -> " +
                      policy.tunnel_dst.to_string() + " mixes address families");
  }
  auto sp = policy_with_selector(policy);
  if (!sp) return unexpected(sp.error());

  std::unique_ptr<xfrmnl_ltime_cfg, LtimePut> lft(xfrmnl_ltime_cfg_alloc());
  std::unique_ptr<xfrmnl_user_tmpl, TmplFree> tmpl(xfrmnl_user_tmpl_alloc());
  if (!lft || !tmpl) return unexpected(std::string("libnl-xfrm: out of memory"));
  // libnl's default lifetime is all zeros; policies never expire by volume here (XFRM_INF, as
  // iproute2 and strongSwan set).
  xfrmnl_ltime_cfg_set_soft_bytelimit(lft.get(), XFRM_INF);
  xfrmnl_ltime_cfg_set_hard_bytelimit(lft.get(), XFRM_INF);
  xfrmnl_ltime_cfg_set_soft_packetlimit(lft.get(), XFRM_INF);
  xfrmnl_ltime_cfg_set_hard_packetlimit(lft.get(), XFRM_INF);
  xfrmnl_sp_set_lifetime_cfg(sp->get(), lft.get());
  xfrmnl_sp_set_priority(sp->get(), policy.priority != 0 ? policy.priority : default_policy_priority(policy));
  xfrmnl_sp_set_action(sp->get(), XFRM_POLICY_ALLOW);

  // The template: which SA (ESP, reqid, mode, and in tunnel mode its outer addresses) must
  // carry this traffic (RFC 4301 §4.4.1.2 "PROTECT").
  const bool tunnel = policy.mode == dataplane::Mode::Tunnel;
  const IpAddress outer_src = tunnel ? policy.tunnel_src.address : IpAddress::any(policy.src.family());
  const IpAddress outer_dst = tunnel ? policy.tunnel_dst.address : IpAddress::any(policy.src.family());
  AddrPtr tsrc = make_addr(outer_src);
  AddrPtr tdst = make_addr(outer_dst);
  if (!tsrc || !tdst) return unexpected(std::string("libnl-xfrm: out of memory"));
  xfrmnl_user_tmpl_set_saddr(tmpl.get(), tsrc.get());
  xfrmnl_user_tmpl_set_daddr(tmpl.get(), tdst.get());
  xfrmnl_user_tmpl_set_family(tmpl.get(), address_family(outer_dst.family()));
  xfrmnl_user_tmpl_set_proto(tmpl.get(), IPPROTO_ESP);
  xfrmnl_user_tmpl_set_spi(tmpl.get(), 0);
  xfrmnl_user_tmpl_set_reqid(tmpl.get(), policy.reqid);
  xfrmnl_user_tmpl_set_mode(tmpl.get(), tunnel ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT);
  xfrmnl_user_tmpl_set_optional(tmpl.get(), 0);
  xfrmnl_user_tmpl_set_aalgos(tmpl.get(), ~0u);
  xfrmnl_user_tmpl_set_ealgos(tmpl.get(), ~0u);
  xfrmnl_user_tmpl_set_calgos(tmpl.get(), ~0u);
  xfrmnl_sp_add_usertemplate(sp->get(), tmpl.release());  // the policy owns it from here

  nl_msg* msg = nullptr;
  int rc = replace ? xfrmnl_sp_build_update_request(sp->get(), 0, &msg)
                   : xfrmnl_sp_build_add_request(sp->get(), 0, &msg);
  if (rc < 0 || msg == nullptr)
    return unexpected(std::string("libnl-xfrm: cannot build the policy request: ") + nl_geterror(rc));
  return NetlinkMessage::adopt(msg);
}

Expected<NetlinkMessage> build_policy_delete(const dataplane::PolicySpec& policy) {
  auto sp = policy_with_selector(policy);
  if (!sp) return unexpected(sp.error());
  nl_msg* msg = nullptr;
  int rc = xfrmnl_sp_build_delete_request(sp->get(), 0, &msg);
  if (rc < 0 || msg == nullptr)
    return unexpected(std::string("libnl-xfrm: cannot build the policy delete: ") + nl_geterror(rc));
  return NetlinkMessage::adopt(msg);
}

}  // namespace natgate::xfrm
