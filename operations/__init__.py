"""Operations: what the people running CityOps look at — the health endpoint and the record of
the periodic jobs' last runs (which the health check reads to tell a stopped beat or worker)."""
