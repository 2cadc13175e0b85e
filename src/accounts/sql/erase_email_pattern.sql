CREATE OR REPLACE FUNCTION public.erase_email_pattern(p_email text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE
AS $function$
      -- The email as a whole address (docs/erasure.md), for a case-insensitive regular expression: not
      -- preceded by a character an address can hold, not followed by one either (a sentence's final dot
      -- ends it), so `e@example.com` never matches inside `alice@example.com` or `e@example.com.au`.
      -- Null email: null (matches nothing).
      SELECT '(?<![[:alnum:]._%+-])'
             || regexp_replace(p_email, '([\]\[.^$*+?(){}|\\-])', '\\\1', 'g')
             || '(?![[:alnum:]_-]|\.[[:alnum:]])'
$function$;
