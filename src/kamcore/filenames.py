"""The names of a workspace's files, in a module that imports nothing: ``kam`` looks for its
workspace before anything heavy is loaded (:mod:`kamcore.workspace.ahead`)."""

CONFIG_FILE = "kam.yaml"
ACCOUNTS_FILE = "accounts.csv"
PEOPLE_FILE = "people.csv"
FACTS_FILES = ("facts.csv", "facts.parquet")
FX_FILE = "fx.csv"
CONTACTS_FILE = "contacts.csv"
#: contacts.csv's columnar form (docs/contacts.md): the same columns and rules, no CSV to parse.
CONTACTS_PARQUET = "contacts.parquet"
TERRITORIES_FILE = "territories.csv"
JOURNAL_FILE = "journal.jsonl"
