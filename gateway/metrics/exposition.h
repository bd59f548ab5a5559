// The Prometheus text exposition format (version 0.0.4) of natgated's state: built from the
// status model's summary (StatusQuery{summary, traffic}: one walk of the SA table, counts and
// traffic per connection, never one series per SA unless per_sa asks for it) and the event
// counts (event_metrics.h). Metric names and labels: docs/operations.md, "Monitoring".
#pragma once

#include <string>
#include <string_view>

#include "gateway/control/status_model.h"
#include "gateway/metrics/event_metrics.h"

namespace natgate::gateway::metrics {

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// `status` must hold a summary (status.summary); its connections are every configured one.
std::string render_exposition(const DaemonStatus& status, const EventMetrics& events);

// A label value as the format wants it: \\, \" and \n escaped, bytes that are not UTF-8 (a
// peer's identity is its own text) replaced by '?', at most 256 bytes.
std::string escape_label_value(std::string_view value);

}  // namespace natgate::gateway::metrics
