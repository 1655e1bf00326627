"""Read build-matrix.yaml from disk: the text, parsed, then checked against the image folders."""

from __future__ import annotations

from pathlib import Path

from hubimages.errors import MatrixError
from hubimages.model.parse import parse_matrix
from hubimages.model.spec import Matrix

DOCKERFILE = "Dockerfile"


def read_matrix_text(path: Path) -> str:
    if path.is_dir():
        raise MatrixError(path, None, None, "is a directory; pass the matrix file itself")
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise MatrixError(path, None, None, "file not found; create it or pass --matrix") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise MatrixError(
            path, None, None, f"not UTF-8 text (byte {exc.start} on line {line}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise MatrixError(path, None, None, f"cannot be read: {exc.strerror}") from None


def load_matrix(path: Path) -> Matrix:
    """The matrix of a checkout: valid, and every image has its folder and Dockerfile."""
    path = Path(path)
    matrix = parse_matrix(read_matrix_text(path), path)
    check_folders(matrix)
    return matrix


def check_folders(matrix: Matrix) -> None:
    for spec in matrix.images.values():
        if spec.environment:
            continue  # built from its repository
        if not spec.folder.is_dir():
            raise MatrixError(
                matrix.path, spec.name, None, f"folder images/{spec.name}/ is missing; create it"
            )
        if not (spec.folder / DOCKERFILE).is_file():
            raise MatrixError(
                matrix.path,
                spec.name,
                None,
                f"images/{spec.name}/{DOCKERFILE} is missing; create it",
            )
        for folder in spec.build_folders:
            _check_build_folder(matrix, spec.name, folder)


def _check_build_folder(matrix: Matrix, name: str, folder: str) -> None:
    """A build folder exists, and the image folder has nothing of the same name to hide."""
    if not (matrix.root / folder).is_dir():
        raise MatrixError(
            matrix.path,
            name,
            "build_folders",
            f"{folder}/ is not a folder of this repository; restore it or remove the entry",
        )
    shadowed = matrix.image(name).folder / folder.split("/")[0]
    if shadowed.exists():
        raise MatrixError(
            matrix.path,
            name,
            "build_folders",
            f"images/{name}/{shadowed.name} has the name {folder} starts with; rename one",
        )
