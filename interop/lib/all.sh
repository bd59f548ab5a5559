# shellcheck shell=bash
# interop/lib/all.sh — source this from a scenario: the whole harness in dependency order.
# shellcheck source-path=SCRIPTDIR
_io_all_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
source "$_io_all_dir/common.sh"
# shellcheck source=topology.sh
source "$_io_all_dir/topology.sh"
# shellcheck source=peer.sh
source "$_io_all_dir/peer.sh"
# shellcheck source=charon.sh
source "$_io_all_dir/charon.sh"
# shellcheck source=natgated.sh
source "$_io_all_dir/natgated.sh"
# shellcheck source=site.sh
source "$_io_all_dir/site.sh"
# shellcheck source=checks.sh
source "$_io_all_dir/checks.sh"
unset _io_all_dir
