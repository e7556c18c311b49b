"""Importing lists of organisations (CSV, XLSX): `reader` reads a file's cells leniently and judges each row
by the form's own rules, `writer` checks duplicates and writes the accepted rows in one short transaction,
`page` is the web page and `command` the `crm import organisations` command."""
