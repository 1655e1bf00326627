"""Local wheels with an npm ES module inlined in place of a CDN import (deps.esm, inline_esm).

No network: the sdist and the npm tarball are made here; the tarball is found in the cache or
"downloaded" by an index that writes it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import shutil
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest
import yaml

from hubimages.core.cache import CacheLayout
from hubimages.deps import declarations, esm, wheelbuild
from hubimages.deps.index import IndexFile, PackageIndex
from hubimages.errors import HubImagesError

needs_uv = pytest.mark.skipif(
    shutil.which("uv") is None and importlib.util.find_spec("uv") is None, reason="needs uv"
)

CDN = "https://esm.sh/lib@1.0"
WIDGET = (
    'function f(o){return o}import C from"' + CDN + '";var l=C;'
    "function render({el:e}){new l.viewer(e)}var $={render};export{$ as default};\n"
)
LIBRARY = (
    "var v=function(){};v.viewer=function(e){this.e=e};"
    'v.note="share/export your view";const f=v;export{f as default};\n'
)

# A build backend that writes a wheel holding the widget (no download, no compiler).
BACKEND = textwrap.dedent("""
    import base64, hashlib, json, os, zipfile

    FILES = json.loads(open(os.path.join(os.path.dirname(__file__), "files.json")).read())

    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        name = "tinywidget-1.0-py3-none-any.whl"
        with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as out:
            record = []
            for path, text in FILES.items():
                data = text.encode()
                out.writestr(path, data)
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
                record.append(f"{path},sha256={digest.rstrip(b'=').decode()},{len(data)}")
            record.append("tinywidget-1.0.dist-info/RECORD,,")
            out.writestr("tinywidget-1.0.dist-info/RECORD", "\\n".join(record) + "\\n")
        return name
""")
PYPROJECT = '[build-system]\nrequires = []\nbuild-backend = "tinybackend"\nbackend-path = ["."]\n'


def add(tar: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def make_sdist(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "tinywidget/__init__.py": "ESM = 'static/widget.js'\n",
        "tinywidget/static/widget.js": WIDGET,
        "tinywidget-1.0.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: tiny\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        "tinywidget-1.0.dist-info/METADATA": (
            "Metadata-Version: 2.1\nName: tinywidget\nVersion: 1.0\n\n"
        ),
    }
    sdist = folder / "tinywidget-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        add(tar, "tinywidget-1.0/pyproject.toml", PYPROJECT)
        add(tar, "tinywidget-1.0/tinybackend.py", BACKEND)
        add(tar, "tinywidget-1.0/files.json", json.dumps(files))
        add(
            tar,
            "tinywidget-1.0/PKG-INFO",
            "Metadata-Version: 2.1\nName: tinywidget\nVersion: 1.0\n",
        )
    return sdist


def make_tarball(folder: Path, module: str = LIBRARY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tarball = folder / "lib-1.0.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        add(tar, "package/dist/lib.js", module)
        add(tar, "package/LICENSE", "GNU LESSER GENERAL PUBLIC LICENSE (the test's)\n")
    return tarball


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def inline_spec(archive: Path, **change: object) -> dict:
    return {
        "file": "tinywidget/static/widget.js",
        "import": CDN,
        "tarball": "https://registry.example.org/lib/-/lib-1.0.tgz",
        "sha256": sha256(archive),
        "module": "package/dist/lib.js",
        "licenses": ["package/LICENSE"],
        **change,
    }


def declare(folder: Path, sdist: Path, inline: object) -> declarations.LocalWheel:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / declarations.DECLARATIONS
    path.write_text(
        yaml.safe_dump(
            {
                "tinywidget": {
                    "version": "1.0",
                    "sdist_sha256": sha256(sdist),
                    "label": "test1",
                    "reason": "a test",
                    "inline_esm": inline,
                }
            }
        )
    )
    return declarations.load(path)[0]


class TarballIndex(PackageIndex):
    """Answers a download with the given bytes, and counts the downloads."""

    def __init__(self, data: bytes = b"") -> None:
        super().__init__("https://index.invalid/simple")
        self.data = data
        self.downloads: list[str] = []

    def files(self, project: str) -> tuple[IndexFile, ...]:
        return ()

    def download(self, file: IndexFile, target: Path) -> None:
        self.downloads.append(file.url)
        if hashlib.sha256(self.data).hexdigest() != file.sha256:
            raise HubImagesError(f"{file.filename}: the download's sha256 is not the expected")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.data)


# -- the transformation ----------------------------------------------------------------------


def test_the_import_becomes_the_wrapped_module_evaluated_first() -> None:
    out = esm.inline_module(WIDGET, CDN, LIBRARY)
    assert out.startswith("const C=(()=>{var v=function(){};")
    assert "const f=v;\nreturn f;})();\nfunction f(o){return o}var l=C;" in out
    assert CDN not in out and "import" not in out
    assert out.endswith("export{$ as default};\n")  # the widget's own export stays


@pytest.mark.parametrize(
    ("module", "problem"),
    [
        ("var v=1;export default v;\n", "does not end with `export{X as default}`"),
        ('import x from"y";const f=x;export{f as default};', "has an import statement"),
        ('const f=import("./chunk.js");export{f as default};', "has a dynamic import()"),
        ("const f=import.meta.url;export{f as default};", "has import.meta"),
        ("const f=await g();export{f as default};", "has await"),
        ("export{g};const f=1;export{f as default};", "exports more than its default"),
    ],
)
def test_modules_that_are_not_self_contained_are_refused(module: str, problem: str) -> None:
    with pytest.raises(HubImagesError, match=problem):
        esm.inline_module(WIDGET, CDN, module, "lib.js")


@pytest.mark.parametrize("importer", ["var l=1;", WIDGET + WIDGET])
def test_the_import_must_be_there_once(importer: str) -> None:
    with pytest.raises(HubImagesError, match=r"expected one `import X from \"https://esm.sh"):
        esm.inline_module(importer, CDN, LIBRARY)


# -- declarations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"licence": []}, r"key 'inline_esm': unknown key 'licence'"),
        ({"module": None}, r"key 'inline_esm': key 'module' is missing"),
        ({"tarball": "http://registry.example.org/lib.tgz"}, r"must be https URLs"),
        ({"sha256": "ABC"}, r"sha256 must be 64 lowercase hex digits"),
        ({"licenses": "package/LICENSE"}, r"licenses must be a list"),
    ],
)
def test_bad_inline_declarations(tmp_path: Path, change: dict, expected: str) -> None:
    sdist, tarball = make_sdist(tmp_path / "s"), make_tarball(tmp_path / "t")
    spec = {k: v for k, v in inline_spec(tarball, **change).items() if v is not None}
    with pytest.raises(HubImagesError, match=expected) as error:
        declare(tmp_path / "images" / "x", sdist, spec)
    assert "\n" not in str(error.value) and "local-wheels.yaml: tinywidget: " in str(error.value)


# -- building --------------------------------------------------------------------------------


@needs_uv
def test_the_wheel_gets_the_module_and_its_licence(tmp_path: Path) -> None:
    sdist, tarball = make_sdist(tmp_path / "s"), make_tarball(tmp_path / "t")
    wheel = declare(tmp_path / "images" / "x", sdist, inline_spec(tarball))
    out = wheelbuild.build(
        wheel, sdist, tmp_path / "a", TarballIndex(), exclude_newer="", tarball=tarball
    )
    with zipfile.ZipFile(out) as archive:
        widget = archive.read("tinywidget/static/widget.js").decode()
        licence = archive.read("tinywidget-1.0+test1.dist-info/licenses/lib-1.0/LICENSE")
        record = archive.read("tinywidget-1.0+test1.dist-info/RECORD").decode()
    assert widget == esm.inline_module(WIDGET, CDN, LIBRARY)
    assert licence.startswith(b"GNU LESSER")
    assert "tinywidget-1.0+test1.dist-info/licenses/lib-1.0/LICENSE,sha256=" in record
    again = wheelbuild.build(
        wheel, sdist, tmp_path / "b", TarballIndex(), exclude_newer="", tarball=tarball
    )
    assert sha256(again) == sha256(out)  # reproducible, as the lock pins its hash


@needs_uv
def test_a_tarball_that_does_not_fit_fails_and_leaves_nothing(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path / "s")
    tarball = make_tarball(tmp_path / "t", module="const f=import.meta.url;export{f as default};")
    wheel = declare(tmp_path / "images" / "x", sdist, inline_spec(tarball))
    with pytest.raises(
        HubImagesError,
        match=r"tinywidget: inline_esm: package/dist/lib.js: has "
        r"import.meta",
    ):
        wheelbuild.build(
            wheel, sdist, tmp_path / "out", TarballIndex(), exclude_newer="", tarball=tarball
        )
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_fetch_downloads_once_and_checks_the_hash(tmp_path: Path) -> None:
    made = make_tarball(tmp_path / "made")
    spec = declarations.InlineModule(
        **{k: v for k, v in inline_spec(made).items() if k not in ("import", "licenses")},
        url=CDN,
        licenses=("package/LICENSE",),
    )
    cache = CacheLayout(tmp_path / "cache")
    index = TarballIndex(made.read_bytes())
    first = esm.fetch_tarball(spec, cache.npm_tarballs, index)
    again = esm.fetch_tarball(spec, cache.npm_tarballs, index)
    assert first == again == cache.npm_tarballs / "lib-1.0.tgz"
    assert index.downloads == [spec.tarball]  # the second call used the cached file
    first.write_bytes(b"changed upstream")
    with pytest.raises(HubImagesError, match="sha256"):
        esm.fetch_tarball(spec, cache.npm_tarballs, TarballIndex(b"changed upstream"))


def test_a_tarball_that_cannot_be_fetched_names_the_declaration(tmp_path: Path) -> None:
    sdist, made = make_sdist(tmp_path / "s"), make_tarball(tmp_path / "t")
    wheel = declare(tmp_path / "images" / "x", sdist, inline_spec(made))
    cache = CacheLayout(tmp_path / "cache")
    index = TarballIndex(b"another file")
    with pytest.raises(HubImagesError) as error:
        wheelbuild._inline_tarball(wheel, index, cache)
    message = str(error.value)
    assert "local-wheels.yaml: tinywidget: inline_esm: lib-1.0.tgz: " in message
    assert message.endswith("check its tarball URL and sha256") and "\n" not in message
    assert not cache.npm_tarballs.exists() or not list(cache.npm_tarballs.iterdir())
