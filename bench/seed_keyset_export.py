"""The seed's way, for comparison: keyset pagination in 1,000-row pages, csv.writer, S3 multipart.

    python bench/seed_keyset_export.py URL BUCKET KEY ENDPOINT FILTERS_JSON

Same catalog SELECT (neutralised, same order) as the exporter, one page at a time with
`WHERE (created_at, id) > (last)`, formatted by Python's csv module into 8 MiB parts that
one upload thread sends while the next page is read (the overlap the seed's PassThrough
stream gives). Prints the number of rows.
"""

from __future__ import annotations

import csv
import io
import json
import queue
import sys
import threading
from typing import Any

import psycopg
from psycopg import sql

from devstack.services import s3_client
from streamexport_core import filters as request_filters
from streamexport_core import sql as export_sql
from streamexport_core.catalog import load_catalog
from streamexport_core.scope import Scope

PAGE = 1000
PART = 8 * 1024 * 1024


def main(url: str, bucket: str, key: str, endpoint: str, filters_json: str) -> int:
    # Every row, as the exporter's runs in bench_exporter (an unrestricted scope).
    resource = load_catalog().get("TRANSACTIONS").with_scope(
        Scope("merchant_id", "merchantId", unrestricted=True)
    )
    filters = request_filters.parse_filters(resource, json.loads(filters_json))
    select, params = export_sql.select_query(resource, filters)
    # The catalog SELECT with a keyset condition and a page limit around it.
    keyset = sql.SQL(
        "SELECT * FROM ({select}) AS page"
        " WHERE ({created}, {ident}) > (%(after_at)s, %(after_id)s)"
        " ORDER BY {created}, {ident} LIMIT {limit}"
    ).format(
        select=select,
        created=sql.Identifier("Created At"),
        ident=sql.Identifier("ID"),
        limit=sql.Literal(PAGE),
    )
    client = s3_client(endpoint)
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts: queue.Queue[tuple[int, bytes] | None] = queue.Queue(maxsize=1)
    done: list[dict[str, Any]] = []

    def uploader() -> None:
        while (item := parts.get()) is not None:
            number, body = item
            response = client.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            )
            done.append({"PartNumber": number, "ETag": response["ETag"]})

    thread = threading.Thread(target=uploader)
    thread.start()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([column.label for column in resource.columns])
    rows, number = 0, 1
    after: tuple[Any, Any] = ("-infinity", 0)
    with psycopg.connect(url) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        while True:
            page = conn.execute(
                keyset, {**params, "after_at": after[0], "after_id": after[1]}
            ).fetchall()
            if not page:
                break
            writer.writerows(page)
            rows += len(page)
            after = (page[-1][1], page[-1][0])
            if buffer.tell() >= PART:
                parts.put((number, buffer.getvalue().encode("utf-8")))
                number += 1
                buffer.seek(0)
                buffer.truncate()
    parts.put((number, buffer.getvalue().encode("utf-8")))
    parts.put(None)
    thread.join()
    client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    client.close()
    print(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
