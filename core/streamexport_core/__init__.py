"""What the API, the operator and the exporter share: the catalog and its validation, SQL
composition, the contract between the parts, domain errors, typed settings and timestamps.

Importing this package imports nothing else: `sql` alone needs psycopg, `presign` botocore.
"""
