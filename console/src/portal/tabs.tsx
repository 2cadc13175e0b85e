import { type KeyboardEvent, type ReactNode, useRef } from 'react';

export interface Tab {
  id: string;
  label: string;
}

/**
 * WAI-ARIA tabs: one tab stop for the list (the selected tab), arrow keys, Home and End move and
 * select, the panel is the next stop.
 */
export function Tabs(props: {
  label: string;
  tabs: Tab[];
  active: string;
  onSelect: (id: string) => void;
  children: ReactNode;
}) {
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});
  const move = (event: KeyboardEvent, index: number) => {
    const last = props.tabs.length - 1;
    const next =
      event.key === 'ArrowRight'
        ? (index + 1) % props.tabs.length
        : event.key === 'ArrowLeft'
          ? (index + last) % props.tabs.length
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? last
              : null;
    if (next === null) return;
    event.preventDefault();
    const id = props.tabs[next].id;
    props.onSelect(id);
    refs.current[id]?.focus();
  };
  return (
    <>
      <div role="tablist" aria-label={props.label} className="tablist">
        {props.tabs.map((tab, i) => (
          <button
            key={tab.id}
            ref={(el) => {
              refs.current[tab.id] = el;
            }}
            role="tab"
            type="button"
            id={`tab-${tab.id}`}
            aria-selected={tab.id === props.active}
            aria-controls={`panel-${tab.id}`}
            tabIndex={tab.id === props.active ? 0 : -1}
            onClick={() => props.onSelect(tab.id)}
            onKeyDown={(e) => move(e, i)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      <section
        role="tabpanel"
        id={`panel-${props.active}`}
        aria-labelledby={`tab-${props.active}`}
        tabIndex={0}
        className="panel"
      >
        {props.children}
      </section>
    </>
  );
}
