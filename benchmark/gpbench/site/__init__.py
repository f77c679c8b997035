"""The results website: static HTML pages of run directories (``gpbench site``)."""

from gpbench.site.build import Site, build_site, build_site_from, load_runs

__all__ = ["Site", "build_site", "build_site_from", "load_runs"]
