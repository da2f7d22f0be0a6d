"""Project datasets for the catalog: raw tables read with clear errors, atomic writes."""
