"""The port file of the loopback test servers (capture_server.py,
smtp_server.py, fake_openai.py): once a server listens it writes its port
there, through a temporary file and a rename, so a reader never sees a
half-written file."""
import os


def write_portfile(path, port):
    """Writes port (and a line break) to file path, atomically."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)
