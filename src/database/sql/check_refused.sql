CREATE OR REPLACE FUNCTION public.check_refused(p_table text, p_constraint text)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- A check kept by a trigger refusing a row as PostgreSQL refuses one that breaks a CHECK constraint:
  -- SQLSTATE 23514, the same message, the constraint's and the table's names (each hot table's
  -- <table>_check() trigger function calls it for its first check that fails).
  BEGIN
    RAISE EXCEPTION 'new row for relation "%" violates check constraint "%"', p_table, p_constraint
      USING ERRCODE = 'check_violation', CONSTRAINT = p_constraint, TABLE = p_table;
  END $function$;
