#!/bin/sh
# Restart soak, by hand (minutes of real time, so not in ctest):
#   tests/faults/soak_restart.sh [BUILD] [SECONDS] [SETS_PER_KILL]
# partita serve runs tone -> B (the fault module, isolated, restart:
# on-failure) -> a file; partita ctl sets B's configuration as fast as it
# can, and every SETS_PER_KILL sets B's domain is SIGKILLed. Prints the sets,
# the kills, the restarts and the restarts that failed (want 0). Restarts
# back off (10 periods, doubling), so later kills may find B still down.
B=$(cd "${1:-build}" && pwd); T=${2:-60}; EVERY=${3:-50}
P=$B/partita; D=$(mktemp -d /tmp/pt-soak-XXXXXX); S=$D/sock
cat > $D/soak.yaml <<EOT
rate: 48000
pipelines:
  - name: main
    state: running
    instances:
      - {name: tone, module: tone, params: {freq: 440}}
      - {name: B, library: "$B/tests/faults/pt_fault.so", isolation: process, restart: on-failure, restart_limit: 100}
      - {name: out, module: output, params: {file: "$D/out.wav"}}
    bindings:
      - {from: tone.0, to: B.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}}
      - {from: B.0, to: out.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}}
EOT
$P serve --socket $S $D/soak.yaml > $D/serve.log 2>&1 &
SP=$!
sleep 1
i=0; kills=0; end=$(( $(date +%s) + T ))
while [ "$(date +%s)" -lt $end ]; do
	i=$((i + 1))
	$P ctl --socket $S set-config B s$((i % 16))=$i gain_db=-$((i % 7)) > /dev/null 2>&1
	if [ $((i % EVERY)) -eq 0 ]; then
		pid=$(ps --ppid $SP -o pid= | head -1)
		[ -n "$pid" ] && kill -9 $pid && kills=$((kills + 1))
	fi
done
kill $SP; wait $SP 2>/dev/null
echo "sets $i kills $kills restarted $(grep -c 'restarted' $D/serve.log) restart failures $(grep -c 'restart of' $D/serve.log)"
grep 'restart of' $D/serve.log | head -3
rm -rf $D
