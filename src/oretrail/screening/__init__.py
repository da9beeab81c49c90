"""Watch-list screening: FollowTheMoney entities, name normalisation, and the matcher."""
