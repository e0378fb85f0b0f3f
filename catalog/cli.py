"""Validate, load and export the program catalog.

    python -m catalog validate [FILE]   # check a file, touch nothing
    python -m catalog load [FILE]       # replace the database's catalog (all or nothing)
    python -m catalog sync [--dry-run]  # course-discovery's facts over FILE, loaded if changed
    python -m catalog export [FILE]     # write the database's catalog as YAML ('-' = stdout)
    python -m catalog status            # revision and counts of the loaded catalog
    python -m catalog status --coverage # and, per fact type, programs with it and as-of years

FILE defaults to CATALOG_FILE; the database is DATABASE_URL (see core/settings.py).
`load` keeps the facts the last `sync` took from course-discovery (they live beside the file).
Exit codes: 0 done, 1 invalid file (nothing written), 2 database error (nothing written),
3 course-discovery unreachable, refusing or malformed (nothing written).
"""

import argparse
import sys
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from catalog.coverage import coverage_table
from catalog.discovery import DiscoveryClient, DiscoveryConfig, DiscoveryError
from catalog.facts import all_program_facts
from catalog.file import CatalogFileError, parse_catalog, read_catalog
from catalog.loader import create_schema, export_catalog, load_catalog
from catalog.models import CatalogRevision, CreditPathway, FaqAnswer, Price, Program
from catalog.sync import sync, with_stored_snapshot
from core import settings
from core.db import engine_for, session_scope


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="catalog", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["validate", "load", "export", "status", "sync"])
    parser.add_argument("file", nargs="?", help="catalog file (default: CATALOG_FILE)")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL")
    parser.add_argument("--dry-run", action="store_true", help="sync: print what would change, write nothing")
    parser.add_argument("--coverage", action="store_true", help="status: per fact type, coverage and as-of years")
    args = parser.parse_args(argv)
    url = args.database_url or settings.database_url()
    try:
        if args.command == "export":
            return _export(url, args.file)
        if args.command == "status":
            return _status(url, args.coverage)
        path = Path(args.file) if args.file else settings.catalog_file()
        if args.command == "sync":
            with DiscoveryClient(DiscoveryConfig.from_settings()) as client:
                sync(engine_for(url), path, client, dry_run=args.dry_run)
            return 0
        catalog = read_catalog(path)
        if args.command == "validate":
            print(f"{path}: valid ({len(catalog.programs)} programs, {len(catalog.faq)} FAQ answers, "
                  f"{len(catalog.sources)} sources)")
            return 0
        engine = engine_for(url)
        catalog = parse_catalog(with_stored_snapshot(engine, catalog.dict()), path)
        revision = load_catalog(engine, catalog)
        print(f"loaded {len(catalog.programs)} programs and {len(catalog.faq)} FAQ answers from {path} "
              f"into {_safe(url)} (revision {revision})")
        return 0
    except CatalogFileError as error:
        print(f"error: {error}\nnothing was written to the database.", file=sys.stderr)
        return 1
    except DiscoveryError as error:
        print(f"error: {error}\nnothing was written to the database.", file=sys.stderr)
        return 3
    except SQLAlchemyError as error:
        print(f"error: database {_safe(url)}: {error.__class__.__name__}: {error}\n"
              "nothing was written to the database.", file=sys.stderr)
        return 2


def _export(url: str, target) -> int:
    data = export_catalog(engine_for(url))
    parse_catalog(data, "<export>")
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
    if target in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(target).write_text(text, encoding="utf-8")
        print(f"exported {len(data['programs'])} programs to {target}")
    return 0


def _status(url: str, coverage: bool = False) -> int:
    engine = engine_for(url)
    create_schema(engine)
    with session_scope(engine) as session:
        stamp = session.get(CatalogRevision, 1)
        if stamp is None:
            print(f"{_safe(url)}: no catalog loaded")
            return 1
        counts = {
            name: session.execute(select(func.count()).select_from(model)).scalar_one()
            for name, model in (("programs", Program), ("prices", Price), ("credit_pathways", CreditPathway),
                                ("faq_answers", FaqAnswer))
        }
        print(f"{_safe(url)}: revision {stamp.revision}, loaded {stamp.loaded_at:%Y-%m-%d %H:%M} UTC, "
              + ", ".join(f"{v} {k}" for k, v in counts.items()))
        if coverage:
            print()
            print(coverage_table(all_program_facts(session).values()))
    return 0


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
