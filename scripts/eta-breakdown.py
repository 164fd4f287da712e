# ETA error by request state and over time, from `trail demo --etas-out FILE`: python3 scripts/eta-breakdown.py FILE
# (each estimate against its request's real finish; the naive ETA = emitted + (queue_position + 1) x makespan / requests)
import json,statistics as st,sys
from collections import defaultdict
rows=[json.loads(l) for l in open(sys.argv[1])]
fin=[r['finished_at_ms'] for r in rows if r['finished_at_ms']]
ids=set(r['id'] for r in rows)
t0=min(r['emitted_at_ms'] for r in rows); last=max(fin)
S=(last-t0)/len(ids)
b=defaultdict(lambda:[[],[],[]])
first={}
for r in rows:
    if r['predicted_finish_at_ms'] is None or r['finished_at_ms'] is None: continue
    first.setdefault(r['id'],r)
    k=(r['predicted_remaining'] is not None, r['state'])
    e=(r['finished_at_ms']-r['predicted_finish_at_ms'])/1000
    n=abs(r['finished_at_ms']-(r['emitted_at_ms']+(r['queue_position']+1)*S))/1000
    b[k][0].append(abs(e)); b[k][1].append(n); b[k][2].append(e)
for k,(e,n,sg) in sorted(b.items()): print(k,len(e),'ours',round(st.mean(e),1),'bias',round(st.mean(sg),1),'naive',round(st.mean(n),1))
f=list(first.values())
pred=[(r['predicted_finish_at_ms']-r['emitted_at_ms'])/1000 for r in f]; act=[(r['finished_at_ms']-r['emitted_at_ms'])/1000 for r in f]
print('first: mean predicted time left',round(st.mean(pred),1),'actual',round(st.mean(act),1), 'emitted at', round(st.mean(r['emitted_at_ms']-t0 for r in f)/1000,1),'s')
tb=defaultdict(list)
for r in rows:
    if r['step_ms'] and r['finished_at_ms'] and r['predicted_finish_at_ms']: tb[int((r['emitted_at_ms']-t0)/10000)].append((r['step_ms'],r['slots'],abs(r['finished_at_ms']-r['predicted_finish_at_ms'])/1000))
for k in sorted(tb): print('t',k*10,'step',round(st.mean(x[0] for x in tb[k]),1),'slots',round(st.mean(x[1] for x in tb[k]),1),'mae',round(st.mean(x[2] for x in tb[k]),1))
