# shellcheck shell=bash
# testlib/all.sh — source this from a scenario: the whole library in dependency order.
# shellcheck source-path=SCRIPTDIR
_tl_all_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for _tl_f in procs netns nat topology capture checks peer charon natgated site; do
  # shellcheck source=/dev/null
  source "$_tl_all_dir/$_tl_f.sh"
done
unset _tl_all_dir _tl_f
