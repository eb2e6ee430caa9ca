"""``python -m crawler.demo [--port 8765] [--edition 1]``: serve the demo web in the foreground.

``python -m crawler.demo --write-ground-truth`` refreshes crawler/demo/ground_truth.json.
"""

from __future__ import annotations

import argparse

from crawler.demo.server import DemoWeb
from crawler.demo.truth import write_ground_truth_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--edition", type=int, default=1, choices=(1, 2), help="edition to serve")
    parser.add_argument("--write-ground-truth", action="store_true",
                        help="write crawler/demo/ground_truth.json and exit")
    args = parser.parse_args(argv)
    if args.write_ground_truth:
        print(f"wrote {write_ground_truth_file()}")
        return 0
    web = DemoWeb(edition=args.edition, port=args.port)
    web.start()
    print(f"Demo news web (edition {web.edition}) at {web.base_url}/", flush=True)
    for key, url in web.site_urls.items():
        print(f"  {key:8} {url}", flush=True)
    print(
        "Crawl it from the checkout root (it is on loopback, which the crawler refuses by default):\n"
        f"  scrapy crawl news -a start_urls={web.base_url}/ -s NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false\n"
        "Ctrl-C stops.",
        flush=True,
    )
    try:
        web.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
