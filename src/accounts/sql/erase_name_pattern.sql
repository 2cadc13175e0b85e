CREATE OR REPLACE FUNCTION public.erase_name_pattern(p_username text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE
AS $function$
      -- The username as a whole word (docs/erasure.md), for a case-sensitive regular expression: not
      -- part of a longer name (`ann` is not in `anna` or `ann.lee`), but found in `keys of ann`. Used
      -- only on the fields that hold a person's name. Null username: null (matches nothing).
      SELECT '(?<![[:alnum:]_.@-])'
             || regexp_replace(p_username, '([\]\[.^$*+?(){}|\\-])', '\\\1', 'g')
             || '(?![[:alnum:]_@-]|\.[[:alnum:]])'
$function$;
