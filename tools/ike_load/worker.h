// One natgate_ike_load worker process: a slice of the road warriors, their sockets, the pacing of
// their initiations, their IKE SAs (ike/exchange initiators, as natgated's own) and timers.
//
// Talks to the parent over two pipes, one text line per message:
//   worker -> parent  "ready"              sockets bound, SAs created
//                     "c INDEX UP ..."     one per client once all of the slice are settled
//                                          (up, refused or timed out) — stats.h
//                     "settled"
//                     "held …"             asked for, at the end of the hold
//                     "teardown DELETED SENT"  after the Delete exchanges (RFC 7296 §1.4.1)
//   parent -> worker  "go START_NS"        begin initiating at that steady_clock time
//                     "report"             the hold is over: say "held LOST REQUESTS KEEPALIVES"
//                     "delete"             delete every IKE SA, then exit
#pragma once

#include "tools/ike_load/options.h"

namespace natgate::ike_load {

struct Slice {
  int worker = 0;       // 0 .. procs-1
  int first_index = 1;  // identities first_index .. first_index + count - 1
  int count = 0;
};

// Runs the worker to its end; returns its exit status.
int run_worker(const Options& options, const Slice& slice, int to_parent, int from_parent);

}  // namespace natgate::ike_load
