"""党建台账 (dangjian): ledgers, lists, collection and the annual party-building report."""

__version__ = "0.1.0"
