"""The results website: static HTML pages of run directories (``gpbench site``)."""

from gpbench.site.build import Roles, Site, build_site, build_site_from, load_runs

__all__ = ["Roles", "Site", "build_site", "build_site_from", "load_runs"]
