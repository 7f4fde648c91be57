# The layers of lib/, lowest first (docs/DESIGN.md §4, lib/README.md). Each layer is a
# static library that links only the layers it may use; a module may #include headers of
# its own layer and of the layers it uses, never of a layer above (lib/check_layers.cmake
# refuses it at configure time, and tests/integration/test_code_structure.sh runs the same
# check).
#
# PYSCOPE_LAYERS: the layer names, lowest first.
# PYSCOPE_LAYER_<name>: its modules (lib/<module>.c and .h).
# PYSCOPE_LAYER_<name>_USES: the lower layers it may include and links.
set(PYSCOPE_LAYERS core stats render farm)
# Core utilities every program uses: errors, allocation, logging, JSON, hashes, paths.
set(PYSCOPE_LAYER_core errors xmalloc strbuf log sanitize jsonutil hash fault pathnorm funckey hostinfo gitrev
                       pyreq atomicfile metrics confval)
set(PYSCOPE_LAYER_core_USES)
# Statistics and the regression verdict, with the local history they read.
set(PYSCOPE_LAYER_stats stats contended history history_index history_doc cp_memo regress abtest)
set(PYSCOPE_LAYER_stats_USES core)
# Rendering shared by the CLI and the coordinator's web pages: HTML and flame-graph diffs.
# (The pages and files only the CLI writes are its own: cli/html_report, the run page;
# cli/html_compare, `pyscope compare`'s; cli/export, the stack exports.)
set(PYSCOPE_LAYER_render flamediff html_text html_axis html_page html_verdict html_range html_history
                         html_hosts html_team)
set(PYSCOPE_LAYER_render_USES core stats)
# The farm's wire (protobuf-c), CURVE keys and the environment a suite sets for its jobs.
set(PYSCOPE_LAYER_farm wire curve jobenv endpoint)
set(PYSCOPE_LAYER_farm_USES core)
# Headers generated into the build folder that a layer may include.
set(PYSCOPE_LAYER_GENERATED html_assets.h pyscope.pb-c.h)
