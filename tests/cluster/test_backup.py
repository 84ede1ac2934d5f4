"""make backup / make restore on a throwaway var directory (never the developer's var/)."""

from finserv.core.health import backup as bk
from ZODB.blob import Blob
from ZODB.FileStorage import FileStorage

import pytest
import time
import transaction
import ZODB


def open_db(var):
    (var / "filestorage").mkdir(parents=True, exist_ok=True)
    storage = FileStorage(str(var / "filestorage" / "Data.fs"), blob_dir=str(var / "blobstorage"))
    return ZODB.DB(storage)


def write(var, value, blob_text):
    db = open_db(var)
    try:
        conn = db.open()
        root = conn.root()
        root["value"] = value
        blob = Blob()
        with blob.open("w") as f:
            f.write(blob_text.encode())
        root[f"blob-{value}"] = blob
        transaction.commit()
        conn.close()
    finally:
        db.close()


def read(var):
    db = open_db(var)
    try:
        conn = db.open()
        root = conn.root()
        blobs = {}
        for key in sorted(k for k in root.keys() if k.startswith("blob-")):
            with root[key].open("r") as f:
                blobs[key] = f.read().decode()
        value = root.get("value")
        conn.close()
        return value, blobs
    finally:
        db.close()


def test_backup_modify_restore(tmp_path):
    var = tmp_path / "var"
    write(var, 1, "first")
    first = bk.backup(var, out=lambda *a: None)
    assert (var / "backups" / "blobs" / first).is_dir()
    time.sleep(1.1)  # repozo names backups by the second
    write(var, 2, "second")
    second = bk.backup(var, out=lambda *a: None)  # incremental
    assert second > first
    assert any(p.suffix == ".deltafsz" for p in (var / "backups" / "filestorage").iterdir())
    write(var, 3, "third")  # not backed up: lost by a restore
    assert read(var)[0] == 3

    assert bk.restore(var, out=lambda *a: None) == second
    value, blobs = read(var)
    assert value == 2
    assert blobs == {"blob-1": "first", "blob-2": "second"}
    assert list(var.glob("filestorage/Data.fs.before-restore-*"))  # the replaced file is kept

    assert bk.restore(var, date=first, out=lambda *a: None) == first
    value, blobs = read(var)
    assert value == 1
    assert blobs == {"blob-1": "first"}


def test_restore_refuses_while_storage_open(tmp_path):
    var = tmp_path / "var"
    write(var, 1, "first")
    bk.backup(var, out=lambda *a: None)
    db = open_db(var)  # like a running Zope or ZEO server
    try:
        with pytest.raises(bk.BackupError, match="stop it first"):
            bk.restore(var, out=lambda *a: None)
    finally:
        db.close()
    assert bk.restore(var, out=lambda *a: None)


def test_pack_direct(tmp_path):
    var = tmp_path / "var"
    for i in range(3):
        write(var, i, f"blob {i}")
    bk.pack(var, days=0, out=lambda *a: None)
    assert read(var)[0] == 2
