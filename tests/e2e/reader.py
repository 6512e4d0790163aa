"""The reader of a reader flood (issue #26), shared by
test_hostile.ReaderFlood and bench/flood.py: run with python3 -c READER
PORT SECONDS PATHS, it reads each comma-separated path on its own
connection thread, as fast as answers come, for SECONDS, and prints how
many reads it got."""

READER = r'''
import http.client, sys, threading, time
port, secs, paths = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3].split(",")
end = time.monotonic() + secs
count = [0]
def loop(path):
    # From 127.0.0.2: the readers' connections count against their own
    # address's share, not the /health checker's.
    while time.monotonic() < end:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                           source_address=("127.0.0.2", 0))
            c.request("GET", path)
            c.getresponse().read()
            c.close()
            count[0] += 1
        except OSError:
            pass
ts = [threading.Thread(target=loop, args=(p,)) for p in paths]
for t in ts: t.start()
for t in ts: t.join()
print(count[0])
'''
