"""PostgreSQL: the pool, the migrations, and the queries the API and activities share."""
