"""Finding article URLs: crawl scope, sitemaps, links. Pure where it can be."""
