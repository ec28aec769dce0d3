"""The one compiled part: the ELMO opportunity walk (importers/_elmo_walk.pyx), built against the
lxml of the build. Optional: where it cannot be compiled (no C compiler), the install goes on and
`importers.elmo` walks in Python; everything else is in pyproject.toml."""

import lxml
from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(
                "importers._elmo_walk",
                ["importers/_elmo_walk.pyx"],
                include_dirs=lxml.get_include(),
                optional=True,
            )
        ],
        compiler_directives={"language_level": 3},
    )
)
