"""The one compiled part: the ELMO opportunity walk (importers/_elmo_walk.pyx), built against the
lxml of the build. Optional: without Cython or a C compiler the install goes on and
`importers.elmo` walks in Python; everything else is in pyproject.toml."""

from setuptools import Extension, setup

try:
    import lxml
    from Cython.Build import cythonize
except ImportError:  # a build without its build requirements (--no-build-isolation)
    extensions = []
else:
    extensions = cythonize(
        [Extension("importers._elmo_walk", ["importers/_elmo_walk.pyx"])],
        compiler_directives={"language_level": 3},
    )
    for extension in extensions:
        extension.include_dirs = lxml.get_include()
        # A failed C build leaves the Python walk. Set here: cythonize drops the flag.
        extension.optional = True

setup(ext_modules=extensions)
