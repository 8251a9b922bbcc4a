# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
"""A PEP 517 build backend for the wsp package, on the standard library only.

pip's build isolation installs a backend's requirements from an index
first; this one has none ("requires = []" in pyproject.toml), so that
"pip install tools/python" needs no network.  It builds a pure Python
wheel (py3-none-any) of the directories listed in [tool.wspbuild]
packages, an sdist, and (PEP 660) an editable wheel that puts this
directory on sys.path.
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import time
import tomllib
import zipfile

ROOT = os.path.dirname(os.path.abspath(__file__))

# Files of the tree that go into the sdist, besides the packages.
SDIST_FILES = ("pyproject.toml", "wspbuild.py", "README.rst")
SDIST_DIRS = ("tests",)


def _project():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        data = tomllib.load(f)
    proj = dict(data["project"])
    proj["packages"] = data.get("tool", {}).get("wspbuild", {}).get(
        "packages", [proj["name"]])
    if "version" not in proj:
        init = os.path.join(ROOT, proj["packages"][0], "__init__.py")
        with open(init, encoding="utf-8") as f:
            m = re.search(r'^__version__\s*=\s*"([^"]+)"', f.read(), re.M)
        if not m:
            raise RuntimeError("no __version__ in " + init)
        proj["version"] = m.group(1)
    return proj


def _dist_name(proj):
    return re.sub(r"[-_.]+", "_", proj["name"]).lower()


def _metadata(proj):
    lines = [
        "Metadata-Version: 2.1",
        "Name: " + proj["name"],
        "Version: " + proj["version"],
    ]
    if "description" in proj:
        lines.append("Summary: " + proj["description"])
    if "requires-python" in proj:
        lines.append("Requires-Python: " + proj["requires-python"])
    lic = proj.get("license", {})
    if isinstance(lic, dict) and "text" in lic:
        lines.append("License: " + lic["text"])
    for c in proj.get("classifiers", []):
        lines.append("Classifier: " + c)
    body = ""
    readme = proj.get("readme")
    if readme:
        with open(os.path.join(ROOT, readme), encoding="utf-8") as f:
            body = f.read()
        ctype = "text/x-rst" if readme.endswith(".rst") else "text/plain"
        lines.append("Description-Content-Type: " + ctype)
    return ("\n".join(lines) + "\n\n" + body).encode("utf-8")


def _wheel_file():
    return (b"Wheel-Version: 1.0\n"
            b"Generator: wspbuild\n"
            b"Root-Is-Purelib: true\n"
            b"Tag: py3-none-any\n")


def _package_files(proj):
    """(archive name, path on disk) of every file of the packages."""
    out = []
    for pkg in proj["packages"]:
        top = os.path.join(ROOT, pkg)
        for d, dirs, files in os.walk(top):
            dirs[:] = sorted(x for x in dirs if x != "__pycache__")
            for name in sorted(files):
                if name.endswith((".pyc", ".pyo")):
                    continue
                path = os.path.join(d, name)
                out.append((os.path.relpath(path, ROOT).replace(os.sep, "/"),
                            path))
    return out


# Reproducible archives: every entry gets this time (or SOURCE_DATE_EPOCH).
def _epoch():
    return max(int(os.environ.get("SOURCE_DATE_EPOCH", "315532800")),
               315532800)


class _Wheel:
    def __init__(self, path):
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
        self.record = []
        self.date = time.gmtime(_epoch())[:6]

    def add(self, name, data):
        info = zipfile.ZipInfo(name, self.date)
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, data)
        digest = base64.urlsafe_b64encode(
            hashlib.sha256(data).digest()).rstrip(b"=").decode()
        self.record.append("%s,sha256=%s,%d" % (name, digest, len(data)))

    def close(self, distinfo):
        name = distinfo + "/RECORD"
        self.record.append(name + ",,")
        info = zipfile.ZipInfo(name, self.date)
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, "\n".join(self.record) + "\n")
        self.zip.close()


def _distinfo(proj):
    return "%s-%s.dist-info" % (_dist_name(proj), proj["version"])


def _write_distinfo_files(proj, add):
    di = _distinfo(proj)
    add(di + "/METADATA", _metadata(proj))
    add(di + "/WHEEL", _wheel_file())
    add(di + "/top_level.txt", ("\n".join(proj["packages"]) + "\n").encode())
    return di


def _build(wheel_directory, editable):
    proj = _project()
    name = "%s-%s-py3-none-any.whl" % (_dist_name(proj), proj["version"])
    whl = _Wheel(os.path.join(wheel_directory, name))
    if editable:
        whl.add(_dist_name(proj) + "_editable.pth", (ROOT + "\n").encode())
    else:
        for arcname, path in _package_files(proj):
            with open(path, "rb") as f:
                whl.add(arcname, f.read())
    whl.close(_write_distinfo_files(proj, whl.add))
    return name


# --- PEP 517 -----------------------------------------------------------------

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    proj = _project()

    def add(name, data):
        path = os.path.join(metadata_directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return _write_distinfo_files(proj, add)


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory, config_settings=None,
                metadata_directory=None):
    return _build(wheel_directory, editable=False)


def build_editable(wheel_directory, config_settings=None,
                   metadata_directory=None):
    return _build(wheel_directory, editable=True)


def build_sdist(sdist_directory, config_settings=None):
    proj = _project()
    base = "%s-%s" % (_dist_name(proj), proj["version"])
    name = base + ".tar.gz"
    files = [(n, os.path.join(ROOT, n)) for n in SDIST_FILES]
    files += _package_files(proj)
    for d in SDIST_DIRS:
        files += _package_files({"packages": [d]})
    mtime = _epoch()

    def add(tar, arcname, data):
        info = tarfile.TarInfo(base + "/" + arcname)
        info.size = len(data)
        info.mtime = mtime
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(os.path.join(sdist_directory, name), "w:gz",
                      format=tarfile.PAX_FORMAT) as tar:
        for arcname, path in files:
            with open(path, "rb") as f:
                add(tar, arcname, f.read())
        add(tar, "PKG-INFO", _metadata(proj))
    return name
