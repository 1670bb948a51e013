#!/usr/bin/env bash
# Regenerates test/golden/frames.json: per corpus capture, the frame count (capinfos) and the number
# of frames tshark dissects as TCP outside ICMP error quotes and sFlow samples (tshark 4.x defaults: VXLAN on 4789/udp,
# VLAN, QinQ, MPLS, IPv4 reassembly). Consumed by collectors/source/capture.corpus.test.ts and
# collectors/decode/decoder.corpus.test.ts. Run only on purpose, review the diff, keep the notes.
#
#   bash test/golden/make-frames.sh > test/golden/frames.json.new && mv test/golden/frames.json.new test/golden/frames.json
#
# "notes" (hand-written explanations of expected differences) are merged from the existing file.
set -euo pipefail
cd "$(dirname "$0")/../.."
corpus=${APITAP_CORPUS:-../shared/corpus}
old=test/golden/frames.json
{
  echo '{'
  echo '  "generator": "test/golden/make-frames.sh",'
  echo "  \"tshark\": \"$(tshark --version | head -1)\","
  echo '  "captures": {'
  first=1
  while IFS= read -r f; do
    rel=${f#"$corpus/"}
    frames=$(capinfos -M -c -T -r "$f" | awk -F'\t' '{print $2}')
    tcp=$(tshark -r "$f" -Y 'tcp && !icmp && !icmpv6 && !sflow' -T fields -e frame.number 2>/dev/null | wc -l)
    [ $first -eq 1 ] || echo ','
    first=0
    printf '    "%s": { "frames": %d, "tcp": %d }' "$rel" "$frames" "$tcp"
  done < <(find "$corpus/pcaps" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.gz' \) | sort)
  echo
  echo '  },'
  if [ -f "$old" ] && command -v node >/dev/null; then
    printf '  "notes": %s\n' "$(node -e 'const j=require(process.argv[1]);process.stdout.write(JSON.stringify(j.notes??{},null,4).replace(/\n/g,"\n  "))' "$PWD/$old")"
  else
    echo '  "notes": {}'
  fi
  echo '}'
}
