"""Backups, restores and packing of the FileStorage (``make backup``, ``make restore``, ``make pack``).

    python -m finserv.core.health.backup backup  [--var var] [--full]
    python -m finserv.core.health.backup restore [--var var] [--date 2026-11-25-10-30-00]
    python -m finserv.core.health.backup list    [--var var]
    python -m finserv.core.health.backup pack    [--var var] [--days 7]

Layout of ``<var>/backups/``:

- ``filestorage/``: repozo's full (``.fsz``) and incremental (``.deltafsz``) backups of
  ``Data.fs``, named by their UTC time;
- ``blobs/<time>/``: a copy of the blob directory made right *after* the repozo backup of the
  same name. Blob files never change once written (a new revision is a new file), so a copy
  hard-links every file the previous copy already has: each copy is complete, and costs only
  the new blobs.

Consistency: repozo reads ``Data.fs`` only up to the last committed transaction, so it is safe
while the embedded Zope or the ZEO server runs. The blob copy is taken after it and may hold
blobs of transactions newer than the database backup (harmless: unreferenced files); it never
misses a blob the backup references, unless a pack removes blobs in between — do not run a pack
and a backup at the same time. ``var/keys`` is *not* in these backups: keep it apart.

Restoring replaces ``Data.fs`` and the blob directory (the current ones are kept beside them
as ``*.before-restore-<time>``) and refuses to run while any process has the storage open.
"""

from pathlib import Path

import argparse
import os
import shutil
import subprocess
import sys
import time

BIN = Path(sys.executable).parent


class BackupError(Exception):
    pass


def _repozo():
    return str(BIN / "repozo") if (BIN / "repozo").exists() else "repozo"


def paths(var):
    var = Path(var).resolve()
    return {
        "var": var,
        "datafs": var / "filestorage" / "Data.fs",
        "blobs": var / "blobstorage",
        "repo": var / "backups" / "filestorage",
        "blob_backups": var / "backups" / "blobs",
    }


def _stamp(name):
    """repozo's file names: 2026-11-25-10-30-00.fsz / .deltafsz / .fs / .deltafs."""
    return name.split(".", 1)[0]


def backups(var):
    """The backup times (repozo's names), oldest first."""
    repo = paths(var)["repo"]
    if not repo.exists():
        return []
    return sorted(
        {_stamp(p.name) for p in repo.iterdir() if p.suffix in (".fs", ".fsz", ".deltafs", ".deltafsz")}
    )


def copy_blobs(source, target, previous=None):
    """Copies the blob tree, hard-linking files that ``previous`` (an earlier copy) has."""
    copied = linked = 0
    target.mkdir(parents=True, exist_ok=True)
    for root, dirs, files in os.walk(source):
        rel = Path(root).relative_to(source)
        (target / rel).mkdir(parents=True, exist_ok=True)
        for name in files:
            src = Path(root) / name
            dst = target / rel / name
            if dst.exists():
                continue
            old = previous / rel / name if previous else None
            if old is not None and old.exists() and old.stat().st_size == src.stat().st_size and name.endswith(".blob"):
                os.link(old, dst)
                linked += 1
            else:
                shutil.copy2(src, dst)
                copied += 1
    return copied, linked


def backup(var, full=False, out=print):
    p = paths(var)
    if not p["datafs"].exists():
        raise BackupError(f"no database at {p['datafs']}")
    p["repo"].mkdir(parents=True, exist_ok=True)
    cmd = [_repozo(), "-B", "-z", "-r", str(p["repo"]), "-f", str(p["datafs"])]
    if full:
        cmd.append("-F")
    subprocess.run(cmd, check=True)
    stamps = backups(var)
    if not stamps:
        raise BackupError("repozo wrote no backup")
    stamp = stamps[-1]
    if p["blobs"].exists():
        earlier = sorted(d.name for d in p["blob_backups"].iterdir()) if p["blob_backups"].exists() else []
        previous = p["blob_backups"] / earlier[-1] if earlier else None
        copied, linked = copy_blobs(p["blobs"], p["blob_backups"] / stamp, previous)
        out(f"backup {stamp}: Data.fs → {p['repo']}, blobs → {p['blob_backups'] / stamp} ({copied} copied, {linked} unchanged)")
    else:
        out(f"backup {stamp}: Data.fs → {p['repo']} (no blob directory)")
    return stamp


def storage_in_use(var):
    """True when a process (Zope, ZEO, zconsole) has Data.fs open (its lock file is locked)."""
    import zc.lockfile

    lock = paths(var)["datafs"].with_name("Data.fs.lock")
    if not lock.parent.exists():
        return False
    try:
        zc.lockfile.LockFile(str(lock)).close()
    except zc.lockfile.LockError:
        return True
    return False


def restore(var, date=None, out=print):
    p = paths(var)
    if storage_in_use(var):
        raise BackupError(
            f"{p['datafs']} is open (make start, the cluster's ZEO server or a script): "
            "stop it first (make stop-cluster, or end make start)"
        )
    stamps = backups(var)
    if not stamps:
        raise BackupError(f"no backups in {p['repo']}")
    if date:
        # repozo restores the state as of DATE: the newest backup not after it
        chosen = [s for s in stamps if s <= date]
        if not chosen:
            raise BackupError(f"no backup at or before {date} (oldest: {stamps[0]})")
        stamp = chosen[-1]
    else:
        stamp = stamps[-1]
    now = time.strftime("%Y%m%d-%H%M%S")
    n = 1
    while list(p["var"].glob(f"*/*.before-restore-{now}")) or list(p["var"].glob(f"*.before-restore-{now}")):
        n += 1
        now = time.strftime("%Y%m%d-%H%M%S") + f"-{n}"
    p["datafs"].parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", ".index", ".tmp", ".old"):
        current = p["datafs"].with_name("Data.fs" + suffix)
        if current.exists():
            current.rename(current.with_name(f"{current.name}.before-restore-{now}"))
    cmd = [_repozo(), "-R", "-r", str(p["repo"]), "-o", str(p["datafs"])]
    if date:
        cmd += ["-D", date]
    subprocess.run(cmd, check=True)
    blob_copy = p["blob_backups"] / stamp
    if blob_copy.exists():
        if p["blobs"].exists():
            p["blobs"].rename(p["blobs"].with_name(f"{p['blobs'].name}.before-restore-{now}"))
        copy_blobs(blob_copy, p["blobs"], previous=blob_copy)  # hard links: instant
        os.chmod(p["blobs"], 0o700)
    out(f"restored {stamp} into {p['datafs']} and {p['blobs']} (previous files: *.before-restore-{now})")
    return stamp


def pack(var, days=7, zeo_address=None, zope_conf=None, out=print):
    """zeopack through the running ZEO server, else a direct pack of the FileStorage."""
    if zeo_address:
        subprocess.run([str(BIN / "zeopack"), "-d", str(int(days)), zeo_address], check=True)
        out(f"packed through ZEO {zeo_address} (history older than {days} days removed)")
        return
    if storage_in_use(var):
        raise BackupError("Data.fs is open by a running Zope: stop `make start`, or pack through the cluster")
    from ZODB.FileStorage import FileStorage

    p = paths(var)
    storage = FileStorage(str(p["datafs"]), blob_dir=str(p["blobs"]))
    try:
        import ZODB

        db = ZODB.DB(storage)
        before = p["datafs"].stat().st_size
        db.pack(days=days)
        db.close()
        out(f"packed {p['datafs']}: {before} → {p['datafs'].stat().st_size} bytes (history older than {days} days removed)")
    finally:
        storage.close()


def _zeo_address(var):
    """The running cluster's ZEO address, if any (from var/cluster/cluster.json)."""
    import json

    run = Path(var) / "cluster"
    try:
        config = json.loads((run / "cluster.json").read_text())
        pid = int((run / "zeo.pid").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return f"{config.get('host', '127.0.0.1')}:{config.get('zeo_port', 8100)}"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m finserv.core.health.backup")
    parser.add_argument("command", choices=["backup", "restore", "list", "pack"])
    parser.add_argument("--var", default=os.environ.get("FINSERV_VAR", "var"))
    parser.add_argument("--full", action="store_true", help="a full backup instead of an incremental one")
    parser.add_argument("--date", help="restore the state as of this UTC time, YYYY-MM-DD[-HH[-MM[-SS]]]")
    parser.add_argument("--days", type=int, default=7, help="pack: keep this many days of history")
    args = parser.parse_args(argv)
    try:
        if args.command == "backup":
            backup(args.var, full=args.full)
        elif args.command == "restore":
            restore(args.var, date=args.date)
        elif args.command == "list":
            for stamp in backups(args.var):
                print(stamp)
        else:
            pack(args.var, days=args.days, zeo_address=_zeo_address(args.var))
    except (BackupError, subprocess.CalledProcessError) as error:
        print(f"{args.command} failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
