"""The compiled parts: the ELMO opportunity walk (importers/_elmo_walk.pyx) and the XML depth
check (importers/_xmltree.pyx), built against the lxml of the build, and the transcript record
checks for the records that pass (registry/catalogue/_record_checks.pyx). Optional: without
Cython or a C compiler the install goes on and the Python code they stand in for runs instead;
everything else is in pyproject.toml."""

from setuptools import Extension, setup

try:
    import lxml
    from Cython.Build import cythonize
except ImportError:  # a build without its build requirements (--no-build-isolation)
    extensions = []
else:
    extensions = cythonize(
        [
            Extension("importers._elmo_walk", ["importers/_elmo_walk.pyx"]),
            Extension("importers._xmltree", ["importers/_xmltree.pyx"]),
            Extension(
                "registry.catalogue._record_checks", ["registry/catalogue/_record_checks.pyx"]
            ),
        ],
        compiler_directives={"language_level": 3},
    )
    for extension in extensions:
        extension.include_dirs = lxml.get_include()
        # A failed C build leaves the Python code. Set here: cythonize drops the flag.
        extension.optional = True

setup(ext_modules=extensions)
