"""Mirror statistics: partner-reported imports reconciled with declarations, and transshipment signals."""
