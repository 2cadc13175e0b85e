CREATE OR REPLACE FUNCTION public.erase_text(p_text text, p_email_re text, p_name_re text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE
AS $function$
      -- A person taken out of a free-text column of their own account's rows (an erasure,
      -- docs/erasure.md): each whole address equal to the email (any case) and, where the caller passes
      -- a name pattern (the columns that hold words about a person), each whole word equal to the
      -- username becomes `[erased]`; the rest of the text stays. A null pattern matches nothing.
      SELECT CASE WHEN p_name_re IS NULL THEN e.t ELSE regexp_replace(e.t, p_name_re, '[erased]', 'g') END
        FROM (SELECT CASE WHEN p_email_re IS NULL THEN p_text
                          ELSE regexp_replace(p_text, p_email_re, '[erased]', 'gi') END AS t) e
$function$;
