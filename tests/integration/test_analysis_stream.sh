#!/usr/bin/env bash
# test_analysis_stream.sh - a series decided while its samples stream in is decided on all of them.
# labels: asan
#
# The analysis decides each series the cheap way as soon as a row of another series follows its
# rows, while PostgreSQL still sends the rest (coordinator/analysis.c, gather_ctx): the client's
# deciding overlaps the server's reading. A row that comes after its series was decided must drop
# that decision, whatever order the rows come in. PostgreSQL sends each series' rows together, so
# test_analysis_golden never sees a late row; here the coordinator analyses the same twelve nights
# (that test, run again) with the test switch analysis_decide_every_row (lib/fault.h), which
# decides a series after each of its rows: every decision but the last is made on part of its
# baseline and must be dropped. The findings, held-out nights and unsettled series must still be
# the golden ones, and the log must show decisions dropped (else the switch did nothing and this
# proves nothing). Fails when a decision made before a series' last row is kept.
GOLDEN_FAULT=analysis_decide_every_row exec bash "$PYSCOPE_SRC/tests/integration/test_analysis_golden.sh"
