# Prints the outcome counts of a trx file, then each failure message with how many tests failed with it (and, with a number N, the first N test names).
import sys, re, collections, xml.etree.ElementTree as ET
ns={'t':'http://microsoft.com/schemas/VisualStudio/TeamTest/2010'}
root=ET.parse(sys.argv[1]).getroot()
c=collections.Counter(); groups=collections.defaultdict(list)
for r in root.iter('{%s}UnitTestResult'%ns['t']):
    o=r.get('outcome'); c[o]+=1
    if o=='Failed':
        msg=r.find('.//t:Message',ns); m=(msg.text or '') if msg is not None else ''
        m=m.strip().splitlines()[0][:230] if m.strip() else ''
        groups[m].append(r.get('testName'))
print(c)
for m,ts in sorted(groups.items(), key=lambda x:-len(x[1])):
    print(len(ts), m); 
    if len(sys.argv)>2: [print('    ',t) for t in ts[:int(sys.argv[2])]]
